"""``python -m trials``: the command-line interface to the trial registry.

Commands, flags and JSON field names are a product interface: add, never rename.
The database comes from ``DATABASE_URL``, else ``TRIALS_DB`` (an SQLite file), else the
app's data directory; migrations are applied on start. Errors go to stderr with exit
code 1 (2 for a malformed command line), and user mistakes never print a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from trials.cli.amend import add_amend_commands
from trials.cli.data import add_data_commands
from trials.cli.decisions import add_decision_commands
from trials.domain import TrialStatus, TrialValidationError, UserError

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class CliError(UserError):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except TrialValidationError as e:
        where = f"{args.from_file}: " if getattr(args, "from_file", None) else ""
        print(f"error: {where}the trial is not valid:", file=sys.stderr)
        for problem in e.problems:
            print(f"  - {problem.field}: {problem.message}", file=sys.stderr)
        return EXIT_ERROR
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # e.g. `python -m trials list | head`
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trials",
        description="Channel Trials: register trials, load data, and read results.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="load the demo trials (skips any already loaded)")
    p.add_argument("--today", type=date.fromisoformat, help="date the demo as if today were this")
    p.add_argument(
        "--if-empty", action="store_true", help="load only if the workspace has no trials at all"
    )
    p.add_argument("--json", action="store_true", help="print what was loaded as JSON")
    p.set_defaults(run=_demo)

    p = sub.add_parser("list", help="list the workspace's trials")
    p.add_argument(
        "--status",
        action="append",
        choices=[s.value for s in TrialStatus],
        help="only trials with this status (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_list)

    p = sub.add_parser("create", help="register a trial from a JSON or TOML file")
    p.add_argument("--from-file", required=True, metavar="FILE", help="FILE.json or FILE.toml")
    p.add_argument("--json", action="store_true", help="print the created trial as JSON")
    p.set_defaults(run=_create)

    p = sub.add_parser("show", help="show one trial (by name or id) with its arms' totals")
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_show)

    p = sub.add_parser("analyze", help="posterior funnel, ROAS and CPA per arm")
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--method",
        choices=["mcmc", "exact"],
        default="mcmc",
        help="mcmc: the full model and its verdict (default); exact: a preview in a fraction "
        "of a second (exact figures for a simpler model; no verdict, no budget split)",
    )
    p.add_argument("--pooling", choices=["partial", "none"], default="partial")
    p.add_argument(
        "--no-overdispersion",
        action="store_true",
        help="treat daily counts as binomial (no extra day-to-day variation)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    p.add_argument(
        "--budget", type=float, metavar="N", help="split N over the arms for the next round"
    )
    p.add_argument("--min-per-arm", type=float, default=0.0, metavar="X", help="with --budget")
    p.add_argument("--max-per-arm", type=float, metavar="Y", help="with --budget")
    p.add_argument(
        "--risk",
        type=float,
        default=0.5,
        metavar="L",
        help="with --budget: weight on the worst 10%% of outcomes (0 = expected profit only)",
    )
    p.set_defaults(run=_analyze)

    add_data_commands(sub)
    add_decision_commands(sub)
    add_amend_commands(sub)

    p = sub.add_parser("archive", help="archive a trial (keeps all its data)")
    p.add_argument("trial", metavar="TRIAL")
    p.set_defaults(run=_archive)

    p = sub.add_parser(
        "delete", help="delete a demo trial, or a trial without results (others: archive)"
    )
    p.add_argument("trial", metavar="TRIAL", nargs="?")
    p.add_argument("--all-demo", action="store_true", help="delete every demo trial")
    p.set_defaults(run=_delete)

    p = sub.add_parser(
        "plan",
        help="size a trial before it runs: assurance, days, budget, classical sample size",
        description="Bayesian assurance that the decision rule is met, from a design prior on "
        "the baseline and the lift. Rates and lifts take 0.03 or 3%%.",
    )
    p.add_argument("--baseline-cvr", type=_fraction, metavar="P", help="conversions per click")
    p.add_argument(
        "--lift", type=_fraction, required=True, metavar="L", help="smallest lift worth finding"
    )
    p.add_argument("--arms", type=int, required=True, metavar="K", help="arms, control included")
    volume = p.add_mutually_exclusive_group()
    volume.add_argument(
        "--clicks-per-day", type=float, metavar="N", help="the whole trial's daily clicks"
    )
    volume.add_argument(
        "--daily-budget", type=float, metavar="B", help="the whole trial's daily budget"
    )
    p.add_argument("--cpc", type=float, metavar="C", help="cost per click")
    p.add_argument("--assurance", type=_fraction, default=0.8, metavar="A", help="default 0.8")
    p.add_argument("--baseline-ctr", type=_fraction, metavar="P", help="clicks per impression")
    p.add_argument("--metric", choices=["cvr", "ctr"], default="cvr", help="what is compared")
    p.add_argument("--budget-cap", type=float, metavar="B", help="the most the trial may spend")
    p.add_argument("--max-days", type=int, default=60, metavar="D", help="longest run considered")
    p.add_argument("--min-days", type=int, default=7, help="decision rule: minimum days")
    p.add_argument("--min-conversions", type=int, default=25, help="decision rule: per arm")
    p.add_argument(
        "--probability", type=_fraction, default=0.95, help="decision rule: P(best) to act"
    )
    p.add_argument(
        "--expected-loss", type=_fraction, default=0.01, help="decision rule: largest loss share"
    )
    p.add_argument(
        "--from-workspace",
        action="store_true",
        help="take baseline CVR, CTR and CPC not given from the workspace's trials with data",
    )
    p.add_argument("--simulations", type=int, default=400, help="simulated trials (default 400)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_plan)

    p = sub.add_parser("migrate", help="bring the database schema up to date and say where it is")
    p.set_defaults(run=_migrate)
    return parser


def _store():
    from trials.storage.engine import connect
    from trials.storage.store import TrialStore

    return TrialStore(connect())


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _demo(args) -> int:
    from trials.analysis.demo import load_demo

    store = _store()
    if args.if_empty and not store.is_empty():
        print("the workspace has trials already; no demo data loaded")
        return EXIT_OK
    report = load_demo(store, today=args.today)
    if args.json:
        _print_json({"created": list(report.created), "skipped": list(report.skipped)})
        return EXIT_OK
    for name in report.created:
        print(f"loaded demo trial: {name}")
    for name in report.skipped:
        print(f"already there, left as it is: {name}")
    return EXIT_OK


def _list(args) -> int:
    from trials.reports.contract import summary_dict

    summaries = _store().list_trials(statuses=args.status)
    rows = [summary_dict(s) for s in summaries]
    if args.json:
        _print_json(rows)
        return EXIT_OK
    if not rows:
        print("no trials yet: `python -m trials demo` loads demo trials")
        return EXIT_OK
    _print_table(
        ["id", "name", "status", "arms", "days", "spend / budget", "last data"],
        [
            [
                r["id"],
                r["name"] + (" (demo)" if r["is_demo"] else ""),
                r["status"],
                r["arms"],
                r["days_with_data"],
                f"{r['spend']:,.2f} / {r['budget']:,.2f} {r['currency']}",
                r["last_data_date"] or "-",
            ]
            for r in rows
        ],
    )
    return EXIT_OK


def _create(args) -> int:
    from trials.domain import TrialSpec
    from trials.reports.contract import trial_dict

    values = _read_trial_file(Path(args.from_file))
    store = _store()
    trial = store.create_trial(TrialSpec.build(**values))
    if args.json:
        _print_json(trial_dict(trial, store.arm_totals(trial.id)))
    else:
        print(f"created trial '{trial.name}' (id {trial.id}) with {len(trial.arms)} arms")
    return EXIT_OK


def _show(args) -> int:
    from trials.analysis.sources import order_totals
    from trials.domain.amendments import amendment_lines
    from trials.reports.contract import trial_dict

    store = _store()
    trial = store.get_trial(args.trial)
    amendments = store.amendments(trial.id)
    data = trial_dict(trial, store.arm_totals(trial.id), order_totals(store, trial))
    data["amendments"] = [a.as_dict() for a in amendments]
    if args.json:
        _print_json(data)
        return EXIT_OK
    demo = ", demo" if data["is_demo"] else ""
    print(f"{data['name']}  [{data['status']}{demo}]  id {data['id']}")
    if data["hypothesis"]:
        print(f"hypothesis: {data['hypothesis']}")
    print(
        f"primary metric: {data['primary_metric']}; break-even ROAS {data['break_even_roas']:g}; "
        f"{data['start']} to {data['end']}; budget {data['budget']:,.2f} {data['currency']}"
    )
    _print_table(
        ["arm", "control", "impressions", "clicks", "conversions", "spend", "revenue", "days"],
        [
            [
                a["name"],
                "yes" if a["control"] else "",
                f"{a['totals']['impressions']:,}",
                f"{a['totals']['clicks']:,}",
                f"{a['totals']['conversions']:,}",
                f"{a['totals']['spend']:,.2f}",
                f"{a['totals']['revenue']:,.2f}",
                a["totals"]["days"],
            ]
            for a in data["arms"]
        ],
    )
    if amendments:
        print(f"amendments to the pre-registered plan (rule version {trial.rule_version}):")
        for line in amendment_lines(amendments):
            print(f"  - {line}")
    return EXIT_OK


def _analyze(args) -> int:
    result = _full_analysis(
        args, budget=args.budget, low=args.min_per_arm, high=args.max_per_arm, risk=args.risk
    )
    if args.json:
        _print_json(result)
        return EXIT_OK
    _print_analysis(result, result["currency"])
    return EXIT_OK


def _full_analysis(args, **allocation) -> dict[str, Any]:
    from inference.fit import FitError
    from inference.spec import ModelSpec
    from trials.analysis.result import full_analysis

    store = _store()
    trial = store.get_trial(args.trial)
    spec = ModelSpec.from_dict(
        {"pooling": args.pooling, "overdispersion": not args.no_overdispersion}
    )
    try:
        return full_analysis(
            store, trial, method=args.method, spec=spec, seed=args.seed, **allocation
        )
    except FitError as e:
        raise CliError(f"could not fit '{trial.name}': {e}") from e
    except ValueError as e:
        raise CliError(str(e)) from e


def _print_analysis(result: dict, currency: str) -> None:
    hdi = f"{result['hdi_prob']:.0%} HDI"
    print(f"{result['trial']}: {result['method']} posterior, pooling {result['pooling']} ({hdi})")

    def cell(m: dict, fmt: str) -> str:
        if m["mean"] is None:
            return m.get("reason", "-")
        return f"{m['mean']:{fmt}} [{m['hdi_low']:{fmt}}, {m['hdi_high']:{fmt}}]"

    _print_table(
        ["arm", "CTR", "CVR", "ROAS", f"CPA ({currency})"],
        [
            [
                f"{a['channel']} · {a['creative']}",
                cell(a["ctr"], ".2%"),
                cell(a["cvr"], ".2%"),
                cell(a["roas"], ".2f"),
                cell(a["cpa"], ",.2f"),
            ]
            for a in result["arms"]
        ],
    )
    d = result["diagnostics"]
    if result["method"] == "mcmc":
        state = "reliable" if d["reliable"] else "NOT reliable: " + "; ".join(d["reasons"])
        print(
            f"diagnostics: R-hat max {d['r_hat_max']}, ESS bulk min {d['ess_bulk_min']}, "
            f"tail min {d['ess_tail_min']}, divergences {d['divergences']} -> {state}"
        )
    elif not d["reliable"]:
        print("note: " + "; ".join(d["reasons"]))
    for note in result["notes"]:
        print(f"note: {note}")
    for a in result["arms"]:
        arm_notes = {a[m]["note"] for m in ("ctr", "cvr", "roas", "cpa") if a[m].get("note")}
        for note in sorted(arm_notes):
            print(f"note: {a['channel']} · {a['creative']}: {note}")
    print(f"conversions and revenue from: {result['results_source']}")
    print(result["source"]["sentence"])
    print(result["raw_vs_model"])
    if result.get("preview"):
        print(f"PREVIEW: {result['preview_note']}")
        for a in result["arms"]:
            if a["p_best"] is not None:
                print(f"  {a['channel']} · {a['creative']}: {a['p_best']:.1%} chance to be best")
        return
    decision = result["decision"]
    print(f"VERDICT: {decision['verdict_label']}. {decision['reason']}")
    for a in result["arms"]:
        print(f"{a['recommendation_label'].upper()}: {a['reason']}")
        if "response_curve" in a:
            print(f"  spend: {a['response_curve']['advice']}")
    allocation = result.get("allocation")
    if allocation:
        print(
            f"next round, {allocation['total_budget']:,.2f} of "
            f"{allocation['offered_budget']:,.2f} {currency}: expected revenue "
            f"{allocation['expected_revenue']:,.2f}, profit {allocation['expected_profit']:,.2f} "
            f"(today's split of the whole budget: {allocation['current_expected_profit']:,.2f}); "
            f"P(loss) {allocation['p_loss']:.0%} (today's split {allocation['current_p_loss']:.0%})"
        )
        for note in allocation["notes"]:
            print(f"  {note}")
        _print_table(
            ["arm", "budget", "today's split", "expected revenue"],
            [
                [
                    f"{a['channel']} · {a['creative']}",
                    f"{a['budget']:,.2f}",
                    f"{a['current_budget']:,.2f}",
                    f"{a['expected_revenue']:,.2f}",
                ]
                for a in allocation["arms"]
            ],
        )


def _fraction(text: str) -> float:
    """0.03 or 3% (a share); refuses what is neither."""
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or a percentage") from None


def _plan(args) -> int:
    from inference.planning import PlanError, PlanInputs, PlanRule, plan_trial
    from trials.analysis.planning import workspace_baseline
    from trials.reports.contract import plan_dict

    baseline_cvr, baseline_ctr, cpc = args.baseline_cvr, args.baseline_ctr, args.cpc
    strength = 2000.0
    if args.from_workspace:
        found = workspace_baseline(_store())
        if found is None:
            raise CliError("--from-workspace: no trial in the workspace has results yet")
        baseline_cvr = baseline_cvr if baseline_cvr is not None else found.cvr
        baseline_ctr = baseline_ctr if baseline_ctr is not None else found.ctr
        cpc = cpc if cpc is not None else found.cpc
        strength = found.strength
    missing = [
        flag for flag, value in (("--baseline-cvr", baseline_cvr), ("--cpc", cpc)) if value is None
    ]
    if args.clicks_per_day is None and args.daily_budget is None:
        missing.append("--clicks-per-day or --daily-budget")
    if missing:
        raise CliError(f"plan needs {', '.join(missing)} (or --from-workspace)")
    try:
        inputs = PlanInputs(
            baseline_cvr=baseline_cvr,
            baseline_ctr=baseline_ctr,
            lift=args.lift,
            arms=args.arms,
            cpc=cpc,
            clicks_per_day=args.clicks_per_day,
            daily_budget=args.daily_budget,
            assurance=args.assurance,
            metric=args.metric,
            budget_cap=args.budget_cap,
            max_days=args.max_days,
            rule=PlanRule(
                min_days=args.min_days,
                min_conversions_per_arm=args.min_conversions,
                probability_threshold=args.probability,
                expected_loss_threshold=args.expected_loss,
            ),
            baseline_strength=strength,
            simulations=args.simulations,
        )
    except PlanError as e:
        raise CliError(f"cannot plan: {e}") from None
    result = plan_dict(plan_trial(inputs, seed=args.seed))
    if args.json:
        _print_json(result)
    else:
        _print_plan(result)
    return EXIT_OK


def _print_plan(plan: dict) -> None:
    i = plan["inputs"]
    unit = "impressions" if i["metric"] == "ctr" else "clicks"
    print(
        f"{i['arms']} arms, {plan['clicks_per_arm_per_day']:,.0f} clicks per arm per day "
        f"({i['daily_budget']:,.2f} a day at {i['cpc']:,.2f} per click); design effect "
        f"{plan['design_effect']:.2f} for day-to-day variation."
    )
    if plan["days"] is None:
        print(f"The {i['assurance']:.0%} assurance is not reached within {i['max_days']} days.")
    else:
        print(
            f"{i['assurance']:.0%} assurance: {plan['days']} days, "
            f"{plan['clicks_per_arm_for_assurance']:,.0f} clicks per arm, budget "
            f"{plan['budget']:,.2f}."
        )
    print(
        f"Classical fixed horizon (two-sided 5%, power 80%): "
        f"{plan['classical_clicks_per_arm']:,} {unit} per arm ({plan['classical_days']} days)."
    )
    if i["budget_cap"] is not None and not plan["within_limits"]:
        print(f"Over the budget cap of {i['budget_cap']:,.2f}.")
    if plan["advice"]:
        print("To make it answerable:")
        for a in plan["advice"]:
            where = f": {a['days']} days, budget {a['budget']:,.2f}" if a["days"] else ""
            print(f"  - {a['change']}{where}")
    print()
    _print_table(
        ["days", "budget", "assurance", "wrong arm"],
        [
            [p["days"], f"{p['budget']:,.0f}", f"{p['assurance']:.0%}", f"{p['wrong_arm']:.1%}"]
            for p in plan["assurance_curve"]
            if p["days"] in (1, 3, 7, 14, 21, 30, 45, 60, 90, 120) or p["days"] == plan["days"]
        ],
    )


def _archive(args) -> int:
    store = _store()
    trial = store.archive(store.get_trial(args.trial).id)
    print(f"archived '{trial.name}'")
    return EXIT_OK


def _delete(args) -> int:
    store = _store()
    if args.all_demo == bool(args.trial):
        raise CliError("name one TRIAL, or give --all-demo")
    if args.all_demo:
        print(f"deleted {store.delete_demo_trials()} demo trials")
        return EXIT_OK
    trial = store.get_trial(args.trial)
    store.delete_trial(trial.id)
    print(f"deleted '{trial.name}'")
    return EXIT_OK


def _migrate(_args) -> int:
    from trials.storage.engine import connect, database_url, describe, schema_revision

    url = database_url()
    print(f"database {describe(url)} is at schema revision {schema_revision(connect(url))}")
    return EXIT_OK


def _read_trial_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise CliError(f"{path}: give a .json or .toml file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise CliError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from e
    try:
        values = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as e:
        raise CliError(f"{path}: line {e.lineno}, column {e.colno}: {e.msg}") from e
    except tomllib.TOMLDecodeError as e:
        raise CliError(f"{path}: {e}") from e
    if not isinstance(values, dict):
        raise CliError(f"{path}: expected one trial (an object with name, arms, ...)")
    return values


def _print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
