"""``python -m trials scale-plan``: step a winning arm's daily spend up with the stop
condition written down first, and track the plan against the data.

With settings (``--step``, ``--step-days``, ``--stop-probability``, ``--base-spend``,
``--start``) it writes a plan down (an arm with an active plan needs ``--reason`` for a
new one, which replaces it); without them it shows the arm's plan, or writes one with
the defaults when the arm has none. ``--stop --reason TEXT`` ends the plan.
"""

from __future__ import annotations

from datetime import date

from trials.cli.common import EXIT_OK, CliError, find_arm, open_store, print_json, print_table
from trials.domain import TrialValidationError, UserError

__all__ = ["add_scale_command"]

FLAGS = {
    "base_daily_spend": "--base-spend",
    "step": "--step",
    "step_days": "--step-days",
    "stop_probability": "--stop-probability",
}


def add_scale_command(sub) -> None:
    p = sub.add_parser(
        "scale-plan",
        help="step an arm's daily spend up (+50 %% a week) with a stop condition written first",
        description="Writes down (or shows) a plan to step ARM's daily spend up, and tracks "
        "it: each step's actual spend against the plan, the marginal ROAS at the current "
        "step from the arm's response curve, and the proposal: step up, stop or hold. The "
        "stop condition (stop stepping when the marginal ROAS at the current step is below "
        "break-even with probability at least --stop-probability) cannot be changed once "
        "written; a new plan replaces it with --reason.",
    )
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument("--arm", required=True, metavar="ARM", help="'Channel · Creative'")
    p.add_argument("--step", metavar="S", help="more spend per step: 0.5 or 50%% (default 0.5)")
    p.add_argument("--step-days", metavar="N", help="days at each step (default 7)")
    p.add_argument(
        "--stop-probability", metavar="P", help="stop when P(below break-even) ≥ P (default 0.8)"
    )
    p.add_argument(
        "--base-spend",
        metavar="N",
        help="the first step's daily spend (default: the arm's median over its last 7 days)",
    )
    p.add_argument(
        "--start", metavar="DATE", help="YYYY-MM-DD (default: the day after its last data)"
    )
    p.add_argument("--stop", action="store_true", help="end the arm's plan (needs --reason)")
    p.add_argument(
        "--reason", default="", metavar="TEXT", help="why a new plan replaces one, or why it ends"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_scale_plan)


def _scale_plan(args) -> int:
    from trials.analysis import scale_plan as sp
    from trials.domain.scale_plans import ScaleSettings

    given = {
        name: getattr(args, flag[2:].replace("-", "_"))
        for name, flag in FLAGS.items()
        if getattr(args, flag[2:].replace("-", "_")) is not None
    }
    if args.stop and (given or args.start):
        raise UserError("--stop ends the plan; give it with --reason only, not new settings")
    store = open_store()
    trial = store.get_trial(args.trial)
    arm = find_arm(trial, args.arm)
    current = store.current_scale_plan(trial.id, arm.id)
    start = _date(args.start) if args.start else None
    if args.stop:
        if current is None or not current.active:
            raise UserError(f"'{arm.name}' has no active scale plan to stop")
        if not args.reason.strip():
            raise UserError("--stop needs --reason TEXT: say why the plan ends")
        store.require_write("end scale plans")  # before the fit
        analysis = _analysis(store, trial, args.seed)
        plan = sp.end_plan(store, sp.track_plan(analysis, current), args.reason)
    elif given or start or current is None:
        values = {name: _value(FLAGS[name], text) for name, text in given.items()}
        if current is not None and current.active:
            defaults = current.settings
            base, first = current.base_daily_spend, current.start
        else:
            defaults = ScaleSettings(1.0)
            from trials.analysis.result import load

            base, first = sp.suggested_start(load(store, trial), arm.id)
        if "base_daily_spend" not in values and base is None:
            raise UserError(f"'{arm.name}' has no spend yet: give --base-spend N")
        settings = ScaleSettings(
            base_daily_spend=values.get("base_daily_spend", base),
            step=values.get("step", defaults.step),
            step_days=values.get("step_days", defaults.step_days),
            stop_probability=values.get("stop_probability", defaults.stop_probability),
        )
        try:
            settings.check()
        except TrialValidationError as e:
            raise UserError("; ".join(f"{FLAGS[p.field]}: {p.message}" for p in e.problems)) from e
        plan = store.write_scale_plan(
            trial.id, arm.id, settings, start or first, reason=args.reason
        )
        analysis = _analysis(store, trial, args.seed)
    else:
        plan = current
        analysis = _analysis(store, trial, args.seed)
    tracking = sp.track_plan(analysis, plan)
    recommendation = analysis.arm_decision(arm.id).recommendation
    if args.json:
        print_json(tracking.as_dict(recommendation))
        return EXIT_OK
    _print(tracking, recommendation)
    return EXIT_OK


def _analysis(store, trial, seed: int):
    from inference.funnel.fit import FitError
    from inference.funnel.spec import ModelSpec
    from trials.analysis.result import analyze_trial

    try:
        return analyze_trial(store, trial, method="mcmc", spec=ModelSpec(), seed=seed)
    except FitError as e:
        raise CliError(f"could not fit '{trial.name}': {e}") from e


def _value(flag: str, text: str) -> float | int:
    text = text.strip()
    try:
        if flag == "--step-days":
            return int(text)
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        wanted = "a whole number" if flag == "--step-days" else "a number"
        raise UserError(f"{flag}: {text!r} is not {wanted}") from None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--start: {text!r} is not a date; write it as YYYY-MM-DD") from None


def _print(tracking, recommendation: str) -> None:
    plan, cur = tracking.plan, tracking.currency
    print(
        f"Scale plan for {plan.arm_name} ({plan.status.value}), written by {plan.created_by} "
        f"on {plan.created_at:%Y-%m-%d}: from {plan.start:%Y-%m-%d}, "
        f"{plan.base_daily_spend:,.2f} {cur} a day, {plan.step:+.0%} every {plan.step_days} "
        f"days; {plan.stop_condition()}."
    )
    if plan.replaces:
        print(f"It replaced plan {plan.replaces}: {plan.reason}")
    if recommendation != "scale":
        from trials.domain.verdicts import LABELS

        said = LABELS.get(recommendation, recommendation).lower()
        print(f"Note: the verdict does not say to scale this arm (it says: {said}).")
    if tracking.steps:
        print_table(
            ["step", "dates", "planned a day", "actual a day", "days", "off plan"],
            [
                [
                    s.index + 1,
                    f"{s.start:%Y-%m-%d} – {s.end:%Y-%m-%d}",
                    f"{s.planned_daily_spend:,.2f} {cur}",
                    "–" if s.actual_daily_spend is None else f"{s.actual_daily_spend:,.2f} {cur}",
                    s.days_with_spend,
                    "–" if s.off_by is None else f"{s.off_by:+.0%}" + (" !" if s.off_plan else ""),
                ]
                for s in tracking.steps
            ],
        )
    m, be = tracking.marginal, tracking.break_even_spend
    if m is not None:
        print(
            f"Marginal ROAS at the current step: {m.median:.2f} (94% HDI {m.low:.2f}–"
            f"{m.high:.2f}); below break-even {plan.break_even_roas:g} with probability "
            f"{tracking.p_below_break_even:.0%}."
        )
    if be is not None:
        print(
            f"The marginal ROAS falls to break-even at about {be.median:,.2f} {cur} a day "
            f"(94% HDI {be.low:,.2f}–{be.high:,.2f})."
        )
    for note in tracking.notes:
        print(note)
    print(tracking.proposal.text)
