"""``python -m trials round`` (start a trial's next round) and ``compare-rounds`` (what
changed between two rounds, per arm and funnel stage)."""

from __future__ import annotations

from datetime import date

from trials.cli.common import EXIT_OK, CliError, open_store, print_json, print_table

__all__ = ["add_round_commands"]


def add_round_commands(sub) -> None:
    p = sub.add_parser(
        "round",
        help="start a trial's next round (new dates, budget, arms or rule), with a reason",
        description="The next round starts after the current round's last day with data; "
        "the current round then ends the day before. Replaced creatives become new arms on "
        "the same channel (the old creative's data stay its own), so compare-rounds can "
        "show what the fix changed.",
    )
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument("--start", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--end", metavar="YYYY-MM-DD", help="default: as long as the current round")
    p.add_argument("--budget", type=float, metavar="N", help="default: the current round's")
    p.add_argument(
        "--replace-creative",
        action="append",
        default=[],
        metavar="'CHANNEL · OLD=NEW'",
        help="replace an arm's creative (repeatable), e.g. 'Weibo · Video A=Video B'",
    )
    p.add_argument(
        "--add-arm",
        action="append",
        default=[],
        metavar="'CHANNEL · CREATIVE'",
        help="add an arm (repeatable)",
    )
    p.add_argument(
        "--drop-arm", action="append", default=[], metavar="'CHANNEL · CREATIVE'", help="repeatable"
    )
    p.add_argument("--min-days", type=int, metavar="N", help="the new round's rule")
    p.add_argument("--min-conversions", type=int, metavar="N", help="the new round's rule")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why the next round starts")
    p.add_argument("--json", action="store_true", help="print the trial as JSON")
    p.set_defaults(run=_round)

    p = sub.add_parser(
        "compare-rounds",
        help="what changed between two rounds: per arm and stage, the change and P(improved)",
    )
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument("--before", type=int, metavar="N", help="default: the round before --after")
    p.add_argument("--after", type=int, metavar="N", help="default: the current round")
    p.add_argument(
        "--method",
        choices=["mcmc", "exact"],
        default="mcmc",
        help="mcmc: the full model, as Results shows (default); exact: a quick preview",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_compare)


def _day(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"{flag} '{text}' is not a date: write YYYY-MM-DD, e.g. 2026-12-01"
        ) from None


def _round(args) -> int:
    from trials.analysis.rounds import start_round
    from trials.domain import DecisionRule
    from trials.domain.rounds import NextRound, RoundChanges, parse_arm, parse_replacement
    from trials.reports.contract import trial_dict

    store = open_store()
    trial = store.get_trial(args.trial)
    rule = None
    if args.min_days is not None or args.min_conversions is not None:
        values = trial.spec.decision_rule.as_dict()
        if args.min_days is not None:
            values["min_days"] = args.min_days
        if args.min_conversions is not None:
            values["min_conversions_per_arm"] = args.min_conversions
        rule = DecisionRule.from_dict(values)
    plan = NextRound(
        start=_day(args.start, "--start"),
        end=_day(args.end, "--end"),
        budget=args.budget,
        reason=args.reason,
        rule=rule,
        changes=RoundChanges(
            replace=tuple(parse_replacement(x) for x in args.replace_creative),
            add=tuple(parse_arm(x) for x in args.add_arm),
            drop=tuple(args.drop_arm),
        ),
    )
    updated = start_round(store, trial, plan)
    if args.json:
        print_json(trial_dict(updated))
        return EXIT_OK
    r = updated.rounds[-1]
    print(
        f"'{updated.name}': round {r.number} starts {r.start} and ends {r.end}, budget "
        f"{r.budget:,.2f} {updated.spec.currency}; round {r.number - 1} ends "
        f"{updated.rounds[-2].end}."
    )
    print("arms: " + ", ".join(a.name for a in updated.arms))
    names = {a.id: a.name for a in updated.all_arms}
    for old, new in r.replaced:
        print(f"  {names[old]} → {names[new]} (new creative; its own data from {r.start})")
    return EXIT_OK


def _compare(args) -> int:
    from inference.funnel.fit import FitError
    from trials.analysis.rounds import STAGE_WORDS, compare_rounds
    from trials.reports.contract import round_comparison_dict

    store = open_store()
    trial = store.get_trial(args.trial)
    try:
        comparison = compare_rounds(
            store,
            trial,
            before=args.before,
            after=args.after,
            method=args.method,
            seed=args.seed,
        )
    except FitError as e:
        raise CliError(f"could not fit '{trial.name}': {e}") from e
    data = round_comparison_dict(comparison)
    if args.json:
        print_json(data)
        return EXIT_OK
    print(
        f"{data['trial']}: round {data['before']} → round {data['after']} "
        f"({data['method']}, {data['hdi_prob']:.0%} interval of the relative change)"
    )
    for note in data["notes"]:
        print(f"note: {note}")
    rows = []
    for arm in data["arms"]:
        label = arm["after"] if arm["kind"] == "same" else f"{arm['before']} → {arm['after']}"
        for s in arm["stages"]:
            change = s["change"]
            rows.append(
                [
                    label,
                    STAGE_WORDS[s["stage"]],
                    _value(s["stage"], s["before"]),
                    _value(s["stage"], s["after"]),
                    s.get("reason") or _change(change),
                    "" if s["p_improved"] is None else f"{s['p_improved']:.0%}",
                ]
            )
            label = ""
    print_table(["arm", "stage", "before", "after", "change", "P(improved)"], rows)
    for name in data["added"]:
        print(f"new in round {data['after']}: {name}")
    for name in data["dropped"]:
        print(f"not in round {data['after']}: {name}")
    return EXIT_OK


def _change(change: dict) -> str:
    return f"{change['mean']:+.0%} [{change['hdi_low']:+.0%}, {change['hdi_high']:+.0%}]"


def _value(stage: str, x: dict) -> str:
    if x["mean"] is None:
        return "–"
    if stage in ("ctr", "cvr"):
        return f"{x['mean']:.2%}"
    return f"{x['mean']:,.2f}"
