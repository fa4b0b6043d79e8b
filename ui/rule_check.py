"""What a decision rule does when the trial is checked every day: its simulated
false-scale rate and its chance of a verdict within the planned days (shown where a rule
is registered or amended)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from inference.planning.assurance import LookRates, daily_look_rates
from inference.planning.plan import PlanError, PlanInputs
from trials.analysis.planning import plan_rule, planned_days, workspace_baseline
from trials.domain import Trial
from ui.session import store

__all__ = ["show_look_rates", "show_trial_look_rates"]

LIFT = 0.2  # the difference the chance of a verdict is shown for
SIMULATIONS = 300


@st.cache_data(max_entries=64, show_spinner=False)
def _rates(inputs: PlanInputs, days: int) -> LookRates:
    return daily_look_rates(replace(inputs, simulations=SIMULATIONS), days, seed=0)


def show_look_rates(inputs: PlanInputs, days: int, where: str) -> None:
    """One caption: the rule checked daily, by simulation of ``inputs`` over ``days``."""
    with st.spinner("Simulating the rule with daily looks…"):
        r = _rates(inputs, days)
    st.caption(
        f"Checked every day and acted on at the first *Scale*, this rule would scale one of "
        f"{inputs.arms} identical arms by mistake in {r.false_scale:.1%} of trials "
        f"(± {r.false_scale_error:.1%}), and reach a verdict within the {days} planned days "
        f"in {r.verdict:.0%} of trials where one arm is truly {inputs.lift:.0%} better "
        f"(simulated over {SIMULATIONS} trials at about "
        f"{inputs.trials_per_arm_per_day:,.0f} clicks a day per arm and a "
        f"{inputs.baseline_cvr:.1%} conversion rate, {where})."
    )


def show_trial_look_rates(trial: Trial) -> None:
    """The same for a registered trial, at its budget and dates, from past trials' rates."""
    baseline = workspace_baseline(store(), trial.spec.currency)
    days = planned_days(trial)
    if baseline is not None and baseline.cpc is None:
        # No finished trial in this trial's currency: its own cost per click so far
        # (money is never taken from another currency).
        totals = store().arm_totals(trial.id).values()
        clicks, spend = sum(t.clicks for t in totals), sum(t.spend for t in totals)
        if clicks and spend:
            baseline = replace(baseline, cpc=spend / clicks)
    if baseline is None or not baseline.cvr or not baseline.cpc or trial.spec.budget <= 0:
        st.caption(
            "With a budget cap and past trials' rates (cost per click, conversion rate), this "
            "shows how the rule behaves when checked every day."
        )
        return
    try:
        inputs = PlanInputs(
            baseline_cvr=baseline.cvr,
            lift=LIFT,
            arms=len(trial.arms),
            cpc=baseline.cpc,
            daily_budget=trial.spec.budget / days,
            rule=plan_rule(trial.spec.decision_rule),
            baseline_strength=baseline.strength,
        )
    except PlanError:
        return
    show_look_rates(inputs, days, "rates from past trials")
