"""``python -m trials portfolio`` (every trial of the workspace: money per currency, the
decision log per channel, where the next money goes) and ``history`` (one trial's results
day by day)."""

from __future__ import annotations

import argparse
from datetime import date

from trials.cli.common import EXIT_OK, open_store, print_json, print_table

__all__ = ["add_portfolio_commands"]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD") from None


def add_portfolio_commands(sub) -> None:
    p = sub.add_parser(
        "portfolio",
        help="every trial: spend, revenue, ROAS and CPA per currency; decisions; next money",
        description="Money is never summed across currencies: one table per currency, or "
        "with --currency C and --rate CUR=VALUE (1 CUR = VALUE C), the currencies given a "
        "rate converted into C; a currency without a rate keeps its own table.",
    )
    p.add_argument("--currency", metavar="C", help="convert into this currency (with --rate)")
    p.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="CUR=VALUE",
        help="an exchange rate: 1 CUR = VALUE of --currency (repeat for each currency)",
    )
    p.add_argument("--since", type=_day, metavar="DATE", help="only data from this day on")
    p.add_argument(
        "--by",
        choices=["channel", "trial", "week", "month"],
        default="channel",
        help="the rows of each table (default: channel)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    p.add_argument(
        "--no-curves", action="store_true", help="leave out the winning arms' response curves"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_portfolio)

    p = sub.add_parser(
        "history",
        help="a trial's P(best) and ROAS per arm day by day (cumulative data up to each day)",
    )
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_history)


def _money(x: float | None, currency: str) -> str:
    return "–" if x is None else f"{x:,.2f} {currency}"


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:,.2f}"


def _interval(figure: dict, fmt) -> str:
    if figure["mean"] is None:
        return f"– ({figure.get('reason', 'not defined')})"
    return f"{fmt(figure['mean'])} ({fmt(figure['hdi_low'])}–{fmt(figure['hdi_high'])})"


def _portfolio(args) -> int:
    from trials.analysis.portfolio import portfolio
    from trials.domain.exchange import Rates
    from trials.reports.contract import portfolio_dict

    rates = Rates.parse(args.currency, args.rate)
    store = open_store()
    result = portfolio_dict(
        portfolio(
            store,
            by=args.by,
            rates=rates,
            since=args.since,
            seed=args.seed,
            curves=not args.no_curves,
        )
    )
    if args.json:
        print_json(result)
        return EXIT_OK
    _print_portfolio(result)
    return EXIT_OK


def _print_portfolio(r: dict) -> None:
    if r["rates"]:
        print(
            "Rates used: "
            + ", ".join(f"1 {x['currency']} = {x['rate']} {x['into']}" for x in r["rates"])
        )
    if r["since"]:
        print(f"Data from {r['since']} on.")
    if not r["tables"]:
        print("No trial has data yet.")
    for t in r["tables"]:
        c = t["currency"]
        print(f"\n{c}" + (f" — {t['note']}" if t["note"] else ""))
        rows = [
            [
                row["label"],
                _money(row["spend"], c),
                _money(row["revenue"], c),
                _ratio(row["raw_roas"]),
                _interval(row["roas"], _ratio),
                _interval(row["cpa"], lambda x, c=c: _money(x, c)),
            ]
            for row in [*t["rows"], t["total"]]
        ]
        print_table(
            [r["by"], "spend", "revenue", "ROAS raw", "ROAS (94% HDI)", "CPA (94% HDI)"], rows
        )
    print(f"\n{r['method_note']}")
    if r["without_data"]:
        print("No data yet: " + ", ".join(r["without_data"]))
    print("\nChannels tested")
    for ch in r["channels"]:
        print(f"  {ch['channel']}: {ch['status']} ({', '.join(ch['trials'])})")
        for a in ch["actions"]:
            corrected = f" (corrected by #{a['corrected_by'][0]})" if a["corrected_by"] else ""
            why = f": {a['reason']}" if a["reason"] else ""
            print(
                f"    {a['date']} {a['by']}: {a['action'].replace('_', ' ')} {a['arm']}"
                f"{why}{corrected}"
            )
    print("\nWhere the next money goes")
    if not r["next_money"] and not r["no_verdict"]:
        print("  no trial with data yet")
    for n in r["next_money"]:
        line = f"  {n['arm']} ({n['trial']}): {n['recommendation_label']}; {n['verdict_source']}"
        curve = n["response_curve"]
        if curve is not None:
            m = curve["marginal_roas"]
            if m["mean"] is None:
                line += f"; response curve: {m.get('reason', 'not available')}"
            else:
                line += (
                    f"; marginal ROAS at {curve['current_daily_spend']:,.2f} {n['currency']} "
                    "a day: "
                    f"{m['mean']:.2f} ({m['hdi_low']:.2f}–{m['hdi_high']:.2f}); {curve['advice']}"
                )
        print(line)
    if r["no_verdict"]:
        print(
            "  no verdict to read yet (record a decision, or open Results in the app): "
            + ", ".join(r["no_verdict"])
        )
    print("\nNew channels to try: " + ", ".join(n["channel"] for n in r["new_channels"]))
    for note in r["notes"]:
        print(f"note: {note}")


def _history(args) -> int:
    from trials.analysis.history import history
    from trials.reports.contract import history_dict

    store = open_store()
    trial = store.get_trial(args.trial)
    result = history_dict(history(store, trial, seed=args.seed))
    if args.json:
        print_json(result)
        return EXIT_OK
    if not result["days"]:
        print(f"'{trial.name}' has no data yet.")
        return EXIT_OK
    names = [f"{a['channel']} · {a['creative']}" for a in result["days"][0]["arms"]]
    rows = []
    for d in result["days"]:
        rows.append(
            [d["day"]]
            + [
                ("–" if a["p_best"] is None else f"{a['p_best']:.0%}")
                + " / "
                + ("–" if a["roas"]["mean"] is None else f"{a['roas']['mean']:.2f}")
                for a in d["arms"]
            ]
        )
    print(f"P(best) on {result['metric'].upper()} / ROAS, on the data up to each day")
    print_table(["day", *names], rows)
    if result["leader"]:
        print(f"Leader: {result['leader']}, every day since {result['leader_since']}.")
    print(result["note"])
    return EXIT_OK
