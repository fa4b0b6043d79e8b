"""``python -m trials priors``: what past trials teach (learned priors per channel and
stage, the back-test), and a trial's choice to use them in ``analyze``."""

from __future__ import annotations

import re

from trials.cli.common import EXIT_OK, CliError, fraction, open_store, print_json, print_table

__all__ = ["add_priors_command", "print_priors"]


def add_priors_command(sub) -> None:
    p = sub.add_parser(
        "priors",
        help="what past trials teach: priors per channel and stage learned from finished trials",
        description="Priors for a new trial's click-through rate, conversion rate, revenue "
        "per conversion and cost per click, per channel, learned from the workspace's "
        "finished trials (decided, archived, or past their end date, with data). Money is "
        "per currency, never mixed. With --trial, show or change whether that trial's "
        "analysis uses them.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--currency", metavar="C", help="money in this currency only")
    p.add_argument(
        "--backtest",
        action="store_true",
        help="leave-one-trial-out: day-7 estimates with and without the learned priors "
        "against each trial's final estimate",
    )
    p.add_argument("--trial", metavar="TRIAL", help="show or change this trial's setting")
    p.add_argument(
        "--use-learned",
        choices=["on", "off"],
        help="with --trial: analyze with learned priors (on) or the default priors (off)",
    )
    p.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="CHANNEL/STAGE=MEAN@STRENGTH",
        help="with --trial: set a channel's prior by hand, e.g. 'Search/cvr=3%%@500' (a 3%% "
        "conversion rate worth 500 clicks); repeat for several",
    )
    p.add_argument(
        "--clear-overrides", action="store_true", help="with --trial: remove every override"
    )
    p.set_defaults(run=_priors)


_OVERRIDE = re.compile(r"^(?P<channel>.+)/(?P<stage>[a-zA-Z]+)=(?P<mean>[^@]+)@(?P<ess>.+)$")


def _parse_override(text: str) -> dict:
    m = _OVERRIDE.match(text.strip())
    if m is None:
        raise CliError(
            f"--override {text!r}: write CHANNEL/STAGE=MEAN@STRENGTH, e.g. 'Search/cvr=3%@500'"
        )
    try:
        mean, ess = fraction(m["mean"].strip()), float(m["ess"].strip().replace(",", ""))
    except (ValueError, TypeError) as e:
        raise CliError(f"--override {text!r}: the mean and strength must be numbers") from e
    return {
        "channel": m["channel"].strip(),
        "stage": m["stage"].lower(),
        "mean": mean,
        "strength": ess,
    }


def _priors(args) -> int:
    from trials.analysis.priors import priors_backtest, workspace_priors
    from trials.reports.contract import priors_dict

    store = open_store()
    if args.trial is not None:
        return _trial_setting(store, args)
    if args.use_learned or args.override or args.clear_overrides:
        raise CliError("--use-learned, --override and --clear-overrides need --trial TRIAL")
    currency = args.currency.strip().upper() if args.currency else None
    found = workspace_priors(store, currency=currency)
    result = priors_dict(found, priors_backtest(store) if args.backtest else None)
    if args.json:
        print_json(result)
    else:
        print_priors(result)
    return EXIT_OK


def _trial_setting(store, args) -> int:
    from trials.analysis.priors import trial_model_spec
    from trials.reports.contract import trial_priors_dict

    trial = store.get_trial(args.trial)
    setting = store.trial_priors(trial.id)
    if args.use_learned or args.override or args.clear_overrides:
        overrides = [] if args.clear_overrides else [o.as_dict() for o in setting.overrides]
        overrides += [_parse_override(o) for o in args.override]
        use = setting.use_learned if args.use_learned is None else args.use_learned == "on"
        setting = store.set_trial_priors(trial.id, use, overrides)
    result = trial_priors_dict(trial, setting)
    choice = trial_model_spec(store, trial, setting=setting)
    if args.json:
        print_json(result)
        return EXIT_OK
    state = "uses learned priors" if setting.use_learned else "uses the default priors"
    who = f" (set by {setting.created_by}, {setting.created_at:%Y-%m-%d %H:%M} UTC)"
    print(f"'{trial.name}' {state}{who if setting.created_by else ''}.")
    for o in setting.overrides:
        print(f"  {o.channel} {o.stage}: {o.mean:.2%}, worth about {o.strength:,.0f} (by hand)")
    if choice.note:
        print(choice.note)
    return EXIT_OK


def _money(x: float) -> str:
    return f"{x:,.2f}"


def _value(stage: str, x: float, currency: str | None) -> str:
    if stage in ("ctr", "cvr"):
        return f"{x:.2%}"
    return f"{_money(x)} {currency}"


def print_priors(result: dict) -> None:
    from trials.analysis.priors import STAGE_NAMES

    if result["trials"]:
        print(
            f"Learned from {len(result['trials'])} finished trials: {', '.join(result['trials'])}."
        )
    rows = []
    for r in result["priors"]:
        low, high = (
            _value(r["stage"], r["interval_low"], r["currency"]),
            _value(r["stage"], r["interval_high"], r["currency"]),
        )
        rows.append(
            [
                r["channel"] or "All channels",
                STAGE_NAMES[r["stage"]],
                _value(r["stage"], r["mean"], r["currency"]),
                f"{low} – {high}",
                "—" if r["ess"] is None else f"{r['ess']:,.0f}",
                r["trials"],
                "—" if r["arms"] is None else r["arms"],
                r["capped"] or "",
            ]
        )
    if rows:
        print_table(
            [
                "channel",
                "stage",
                "mean",
                "90% of new trials",
                "worth (ESS)",
                "trials",
                "arms",
                "strength capped",
            ],
            rows,
        )
        print(
            "Worth (ESS): how much evidence the prior is worth — impressions for a "
            "click-through rate, clicks for a conversion rate, conversions for an order value."
        )
    for note in result["notes"]:
        print(note)
    b = result["backtest"]
    if b is None:
        return
    print()
    if b["reason"]:
        print(f"Back-test: {b['reason']}.")
        return
    print(
        f"Back-test, leaving one trial out at a time ({b['trials']} trials): each arm's "
        f"estimate after {b['days']} days, without and with the priors learned from the "
        "other trials, against the trial's final estimate."
    )
    table = []
    for s in b["stages"]:
        if s["error_without"] is None:
            continue
        fmt = "{:.1%}" if s["stage"] == "order_value" else "{:.3%}"
        table.append(
            [
                STAGE_NAMES[s["stage"]],
                s["arms"],
                fmt.format(s["error_without"]),
                fmt.format(s["error_with"]),
                "—" if s["improvement"] is None else f"{s['improvement']:.0%}",
            ]
        )
    print_table(["stage", "arms", "error without", "error with", "smaller by"], table)
    print(
        "Error: mean absolute difference from the final estimate (for revenue per "
        "conversion, as a share of the final value)."
    )
    if b["days_saved_median"] is not None:
        print(
            f"Days saved (conversion rate): without the priors, a trial's estimate needed a "
            f"median of {b['days_saved_median']:g} more days (mean {b['days_saved_mean']:.1f}) "
            f"to come as close to its final estimate as the day-{b['days']} estimate with them."
        )
