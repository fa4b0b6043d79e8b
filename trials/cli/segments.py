"""``python -m trials segments``: spend, revenue, ROAS, CPA and CVR per arm × segment or per
arm × ISO week, each segment or week pooled toward its arm."""

from __future__ import annotations

from trials.cli.common import EXIT_OK, CliError, open_store, print_json, print_table

__all__ = ["add_segments_command"]


def add_segments_command(sub) -> None:
    p = sub.add_parser(
        "segments",
        help="ROAS, CPA and CVR per arm and segment (or per arm and week), pooled toward the arm",
    )
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument(
        "--by",
        choices=["segment", "week"],
        default="segment",
        help="segment: the file's segment column (default); week: ISO weeks, Monday to Sunday",
    )
    p.add_argument(
        "--method",
        choices=["exact", "mcmc"],
        default="exact",
        help="exact: closed form in a fraction of a second (default); mcmc: the full funnel "
        "model on the same units (slower, with day-to-day variation)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_segments)


def _segments(args) -> int:
    from inference.funnel.fit import FitError
    from trials.analysis.segments import grouped_results
    from trials.reports.contract import grouped_dict

    store = open_store()
    trial = store.get_trial(args.trial)
    try:
        result = grouped_dict(
            grouped_results(store, trial, by=args.by, method=args.method, seed=args.seed)
        )
    except FitError as e:
        raise CliError(f"could not fit '{trial.name}': {e}") from e
    if args.json:
        print_json(result)
        return EXIT_OK
    _print(result)
    return EXIT_OK


def _print(result: dict) -> None:
    currency = result["currency"]
    by = "week" if result["by"] == "week" else "segment"
    print(
        f"{result['trial']}: per arm and {by} ({result['method']}, "
        f"{result['hdi_prob']:.0%} HDI; money in {currency})"
    )

    def cell(m: dict, fmt: str) -> str:
        if m["mean"] is None:
            return m.get("reason", "-")
        return f"{m['mean']:{fmt}} [{m['hdi_low']:{fmt}}, {m['hdi_high']:{fmt}}]"

    print_table(
        [
            "arm",
            by,
            "days",
            f"spend ({currency})",
            f"revenue ({currency})",
            "ROAS",
            f"CPA ({currency})",
            "CVR",
        ],
        [
            [
                u["arm"],
                u["week"] if by == "week" else (u["segment"] or "no segment"),
                u["days"],
                f"{u['spend']:,.2f}",
                f"{u['revenue']:,.2f}",
                cell(u["roas"], ".2f"),
                cell(u["cpa"], ",.2f"),
                cell(u["cvr"], ".2%"),
            ]
            for u in result["units"]
        ],
    )
    d = result["diagnostics"]
    if d is not None and not d["reliable"]:
        print("note: the fit is NOT reliable: " + "; ".join(d["reasons"]))
    for note in result["notes"]:
        print(f"note: {note}")
