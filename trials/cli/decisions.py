"""``python -m trials decide`` and ``decisions``: record and list a trial's decisions."""

from __future__ import annotations

import json
from types import SimpleNamespace

from trials.cli.analyze import full_analysis
from trials.cli.common import EXIT_OK, find_arm, open_store, write_file
from trials.domain import UserError

__all__ = ["add_decision_commands"]

PREVIEW_REFUSED = (
    "{what} --method exact: the exact path is a preview, not evidence; {why}. Nothing was "
    "{done}. Run it without --method (the full model)."
)


def add_decision_commands(sub) -> None:
    p = sub.add_parser(
        "decide",
        help="record a decision on a trial, with a frozen snapshot of the evidence",
        description="Arms are named 'Channel · Creative' (or 'Channel/Creative'). The "
        "evidence (posteriors, recommendations, data digest, settings) is frozen with it.",
    )
    p.add_argument("trial", metavar="TRIAL")
    for action, what in (
        ("scale", "arms to scale"),
        ("stop", "arms to stop"),
        ("fix", "arms to fix (creative or landing page)"),
        ("keep-testing", "arms to keep testing"),
    ):
        p.add_argument(f"--{action}", action="append", default=[], metavar="ARM", help=what)
    p.add_argument(
        "--budget-change", default="", metavar="TEXT", help="e.g. 'WeChat 200 → 300 a day'"
    )
    p.add_argument("--note", default="", metavar="TEXT")
    p.add_argument("--corrects", type=int, metavar="ID", help="the entry this one corrects")
    p.add_argument("--mark-decided", action="store_true", help="set the trial's status to decided")
    p.add_argument(
        "--method",
        choices=["mcmc", "exact"],
        default="mcmc",
        help="evidence from the full model (mcmc); exact, a preview, is refused",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the entry as JSON")
    p.set_defaults(run=_decide)

    p = sub.add_parser(
        "report",
        help="a trial's results, recommendations and decision log as CSV, XLSX, Markdown or HTML",
    )
    p.add_argument("trial", metavar="TRIAL")
    p.add_argument("--format", choices=["csv", "xlsx", "md", "html"], required=True)
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument(
        "--method",
        choices=["mcmc", "exact"],
        default="mcmc",
        help="the full model (mcmc); exact, a preview, is refused",
    )
    p.add_argument("--budget", type=float, metavar="N", help="include the next round's split")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_report)

    p = sub.add_parser("decisions", help="a trial's decision log, oldest first")
    p.add_argument("trial", metavar="TRIAL")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_decisions)


def _evidence(trial, args, **allocation) -> dict:
    """The analysis a decision or report rests on (default model settings)."""
    settings = SimpleNamespace(
        trial=trial.id,
        method=args.method,
        pooling="partial",
        no_overdispersion=False,
        seed=args.seed,
    )
    return full_analysis(settings, **allocation)


def _arm_names(trial, given: list[str]) -> tuple[str, ...]:
    return tuple(find_arm(trial, text).name for text in given)


def _decide(args) -> int:
    from trials.domain.verdicts import DecisionRecord
    from trials.reports.contract import entry_dict, evidence_snapshot

    if args.method == "exact":
        raise UserError(
            PREVIEW_REFUSED.format(
                what="decide", why="a recorded decision rests on the full model", done="recorded"
            )
        )
    store = open_store()
    trial = store.get_trial(args.trial)
    store.require_write("record decisions")  # before the fit, not after
    record = DecisionRecord(
        scale=_arm_names(trial, args.scale),
        stop=_arm_names(trial, args.stop),
        fix=_arm_names(trial, args.fix),
        keep_testing=_arm_names(trial, args.keep_testing),
        budget_change=args.budget_change,
        note=args.note,
        corrects=args.corrects,
        mark_decided=args.mark_decided,
    )
    record.summary(trial)  # refuse a bad decision before fitting anything
    analysis = _evidence(trial, args)
    entry = store.record_decision(trial.id, record, evidence_snapshot(analysis))
    if args.json:
        print(json.dumps(entry_dict(entry), indent=2, ensure_ascii=False))
    else:
        print(f"recorded decision {entry.id} on '{trial.name}' by {entry.created_by}")
    return EXIT_OK


def _report(args) -> int:
    from pathlib import Path

    from trials.reports.render import render
    from trials.reports.report import build_report

    if args.method == "exact":
        raise UserError(
            PREVIEW_REFUSED.format(
                what="report", why="reports always use the full model", done="written"
            )
        )
    store = open_store()
    trial = store.get_trial(args.trial)
    analysis = _evidence(trial, args, budget=args.budget)
    data = render(build_report(trial, analysis, store.decisions(trial.id)), args.format)
    write_file(Path(args.output), data)
    print(f"wrote {args.output} ({len(data):,} bytes, {args.format})")
    return EXIT_OK


def _decisions(args) -> int:
    from trials.reports.contract import entry_dict

    store = open_store()
    trial = store.get_trial(args.trial)
    entries = [entry_dict(e) for e in store.decisions(trial.id)]
    if args.json:
        print(json.dumps(entries, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not entries:
        print(f"no decisions recorded for '{trial.name}' yet")
    for e in entries:
        head = f"#{e['id']} {e['created_at'][:16].replace('T', ' ')} by {e['created_by']}"
        if e["corrects"]:
            head += f" (corrects #{e['corrects']})"
        if e["corrected_by"]:
            head += f" (corrected by #{', #'.join(map(str, e['corrected_by']))})"
        print(head)
        for action in ("scale", "stop", "fix", "keep_testing"):
            if e[action]:
                print(f"  {action.replace('_', ' ')}: {', '.join(e[action])}")
        if e["budget_change"]:
            print(f"  budget: {e['budget_change']}")
        if e["note"]:
            print(f"  note: {e['note']}")
        print(f"  evidence: data {e['snapshot']['data_digest'][:12]}, {e['snapshot']['method']}")
    return EXIT_OK
