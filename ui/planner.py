"""The trial planner: inputs, the assurance curve and what it takes, on the Plan and New
trial pages. The maths is ``inference.planning.plan``; this only draws it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from inference.planning.plan import Plan, PlanError, PlanInputs, PlanRule, plan_trial
from trials.analysis.planning import Baseline, workspace_baseline
from ui.session import store
from ui.text import md, money

__all__ = ["PLAN_KEY", "PlanSuggestion", "planner", "suggestion_from"]

PLAN_KEY = "plan_for_new_trial"  # session key: the plan a new trial starts from


@dataclass(frozen=True)
class PlanSuggestion:
    """What a plan suggests for the registration form."""

    budget: float
    start: date
    end: date
    arms: int
    rule: PlanRule
    summary: str
    inputs: PlanInputs | None = None
    days: int | None = None


@st.cache_data(max_entries=64, show_spinner=False)
def _plan(inputs: PlanInputs, seed: int) -> Plan:
    return plan_trial(inputs, seed=seed)


def planner(key: str) -> Plan | None:
    """Draw the planner; returns the plan once the user has asked for one."""
    past = _past_trials(key)
    with st.form(f"{key}_form", border=True):
        fields = _main_fields(past)
        with st.expander("More: budget cap, higher-funnel metric, decision rule"):
            fields |= _more_fields(past)
        asked = st.form_submit_button("Plan", type="primary")
    if asked:
        try:
            inputs = _plan_inputs(fields, past)
        except PlanError as e:
            st.error(f"Cannot plan this: {md(str(e))}.", icon=":material/error:")
            st.session_state.pop(f"{key}_plan", None)
            return None
        with st.spinner("Simulating trials…"):
            st.session_state[f"{key}_plan"] = _plan(inputs, 0)
    plan = st.session_state.get(f"{key}_plan")
    if plan is not None:
        show_plan(plan)
    return plan


def _past_trials(key: str) -> Baseline | None:
    """The workspace's learned priors, when there are some and the user starts from them;
    money from one currency only (asked when finished trials use several)."""
    baseline = workspace_baseline(store())
    if not (baseline and baseline.cvr):
        return None
    use_past = st.toggle(
        "Start from past trials",
        value=True,
        key=f"{key}_past",
        help="Baseline rates from the priors learned from the finished trials (see What past "
        "trials teach): " + md(", ".join(baseline.trials)),
    )
    if not use_past:
        return None
    if len(baseline.currencies) > 1:
        currency = st.selectbox(
            "Currency of the cost per click",
            baseline.currencies,
            key=f"{key}_currency",
            help="Past trials' money is never mixed across currencies: the cost per click "
            "comes from the finished trials in this currency only.",
        )
        baseline = workspace_baseline(store(), currency)
    if baseline.cpc is not None:
        st.caption(
            f"Cost per click from past trials in {baseline.currency}; the conversion rate's "
            f"prior is worth about {baseline.strength:,.0f} clicks of evidence."
        )
    return baseline


def _main_fields(past: Baseline | None) -> dict[str, Any]:
    """Baseline rate, lift worth finding, arms, cost per click, daily volume, assurance."""
    c1, c2, c3 = st.columns(3)
    cvr = c1.number_input(
        "Baseline conversion rate (%)",
        value=round(100 * past.cvr, 2) if past and past.cvr else 3.0,
        min_value=0.01,
        max_value=99.0,
        step=0.1,
        help="Conversions per click today.",
    )
    lift = c2.number_input(
        "Smallest lift worth finding (%)",
        value=20.0,
        min_value=1.0,
        max_value=500.0,
        step=5.0,
        help="Relative: 20 % means 3.0 % → 3.6 %.",
    )
    arms = c3.number_input("Arms (control included)", value=3, min_value=2, max_value=50)
    cpc = c1.number_input(
        "Cost per click",
        value=round(past.cpc, 2) if past and past.cpc else 1.5,
        min_value=0.01,
        step=0.1,
    )
    daily = c2.number_input(
        "Daily budget (all arms)",
        value=300.0,
        min_value=1.0,
        step=50.0,
        help="Or daily clicks, when 'Volume given as' below says so.",
    )
    assurance = c3.slider("Assurance wanted (%)", 50, 99, 80)
    return {
        "cvr": cvr,
        "lift": lift,
        "arms": arms,
        "cpc": cpc,
        "daily": daily,
        "assurance": assurance,
    }


def _more_fields(past: Baseline | None) -> dict[str, Any]:
    """Budget cap, longest run, CTR and the metric decided on, the volume's unit, the rule."""
    d1, d2, d3 = st.columns(3)
    cap = d1.number_input("Budget cap (empty: none)", value=None, min_value=1.0, step=500.0)
    max_days = d2.number_input("Longest run (days)", value=60, min_value=7, max_value=365)
    ctr = d3.number_input(
        "Baseline CTR (%)",
        value=round(100 * past.ctr, 2) if past and past.ctr else None,
        min_value=0.01,
        max_value=99.0,
        step=0.1,
        help="Clicks per impression; lets the planner weigh deciding on CTR instead.",
    )
    volume = d3.radio(
        "Volume given as",
        ["budget", "clicks"],
        horizontal=True,
        format_func=lambda v: "Daily budget" if v == "budget" else "Daily clicks",
    )
    metric = d1.radio(
        "Decide on",
        ["cvr", "ctr"],
        format_func=lambda m: "Conversion rate" if m == "cvr" else "CTR",
        horizontal=True,
    )
    min_days = d2.number_input("Minimum days", value=7, min_value=1)
    min_conversions = d3.number_input("Minimum conversions per arm", value=25, min_value=0)
    probability = d1.number_input(
        "Probability to act (%)", value=95.0, min_value=50.5, max_value=99.9, step=0.5
    )
    loss = d2.number_input(
        "Largest acceptable expected loss (%)",
        value=1.0,
        min_value=0.01,
        max_value=99.0,
        step=0.1,
    )
    return {
        "cap": cap,
        "max_days": max_days,
        "ctr": ctr,
        "volume": volume,
        "metric": metric,
        "min_days": min_days,
        "min_conversions": min_conversions,
        "probability": probability,
        "loss": loss,
    }


def _plan_inputs(f: dict[str, Any], past: Baseline | None) -> PlanInputs:
    """The form's values (percent where people think in percent) as the planner's inputs;
    raises ``PlanError`` when they cannot be planned."""
    return PlanInputs(
        baseline_cvr=f["cvr"] / 100,
        lift=f["lift"] / 100,
        arms=int(f["arms"]),
        cpc=float(f["cpc"]),
        daily_budget=float(f["daily"]) if f["volume"] == "budget" else None,
        clicks_per_day=float(f["daily"]) if f["volume"] == "clicks" else None,
        assurance=f["assurance"] / 100,
        metric=f["metric"],
        baseline_ctr=None if f["ctr"] is None else f["ctr"] / 100,
        budget_cap=f["cap"],
        max_days=int(f["max_days"]),
        rule=PlanRule(
            min_days=int(f["min_days"]),
            min_conversions_per_arm=int(f["min_conversions"]),
            probability_threshold=round(f["probability"] / 100, 6),
            expected_loss_threshold=round(f["loss"] / 100, 6),
        ),
        baseline_strength=past.strength if past else 2000.0,
    )


def show_plan(plan: Plan) -> None:
    i = plan.inputs
    unit = "impressions" if i.metric == "ctr" else "clicks"
    c1, c2, c3, c4 = st.columns(4)
    if plan.days is None:
        c1.metric("Days", f"> {i.max_days}")
        c2.metric("Clicks per arm", "–")
        c3.metric("Budget", "–")
    else:
        c1.metric("Days", plan.days, help=f"to reach {i.assurance:.0%} assurance")
        c2.metric("Clicks per arm", f"{plan.clicks_per_arm_for_assurance:,.0f}")
        c3.metric("Budget", money(plan.budget))
    c4.metric(
        f"Classical {unit} per arm",
        f"{plan.classical_clicks_per_arm:,}",
        help="Fixed-horizon two-proportion sample size: two-sided α 0.05, power 0.8, "
        "no allowance for day-to-day variation or for more than two arms.",
    )
    if plan.days is None:
        st.warning(
            f"The decision rule is met with {i.assurance:.0%} probability only after more "
            f"than {i.max_days} days at {money(i.trial_daily_budget)} a day.",
            icon=":material/warning:",
        )
    elif not plan.within_limits:
        st.warning(
            f"That is over the budget cap of {money(i.budget_cap)}.", icon=":material/warning:"
        )
    else:
        st.success(
            f"Run {plan.days} days at {money(i.trial_daily_budget)} a day "
            f"({i.trial_clicks_per_day / i.arms:,.0f} clicks per arm a day): the rule reaches a "
            f"confident decision in {i.assurance:.0%} of plausible outcomes.",
            icon=":material/check_circle:",
        )
    if plan.advice:
        st.markdown("**To make it answerable within its limits:**")
        for advice in plan.advice:
            where = f" — {advice.days} days, {money(advice.budget)}" if advice.days else ""
            st.markdown(f"- {md(advice.change)}{where}")
    st.altair_chart(_curve_chart(plan), width="stretch")
    st.caption(
        f"Assurance: the share of {i.simulations} simulated trials, with baselines and lifts "
        f"drawn from what you entered, in which the rule (at least {i.rule.min_days} days, "
        f"{i.rule.min_conversions_per_arm} conversions per arm, {i.rule.probability_threshold:.0%} "
        f"probability to be best, or an expected loss under "
        f"{i.rule.expected_loss_threshold:.1%}) "
        f"is met on that day. Day-to-day variation counts each day's {unit} as "
        f"{1 / plan.design_effect:.0%} of independent ones."
    )


def _curve_chart(plan: Plan) -> alt.LayerChart:
    frame = pd.DataFrame(
        {
            "Days": [p.days for p in plan.curve],
            "Assurance": [p.assurance for p in plan.curve],
            "Budget": [p.budget for p in plan.curve],
            "Wrong arm": [p.wrong_arm for p in plan.curve],
        }
    )
    line = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("Days:Q", title="Days (each costs the daily budget)"),
            y=alt.Y(
                "Assurance:Q",
                title="Assurance",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            tooltip=[
                "Days:Q",
                alt.Tooltip("Budget:Q", format=",.0f"),
                alt.Tooltip("Assurance:Q", format=".0%"),
                alt.Tooltip("Wrong arm:Q", format=".1%"),
            ],
        )
    )
    target = (
        alt.Chart(pd.DataFrame({"y": [plan.inputs.assurance]}))
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(y=alt.Y("y:Q", title=None))
    )
    return (line + target).properties(height=260)


def suggestion_from(plan: Plan, start: date | None = None) -> PlanSuggestion | None:
    """What a plan suggests for registration (None when it found no length that works)."""
    if plan.days is None:
        return None
    start = start or date.today()
    i = plan.inputs
    return PlanSuggestion(
        budget=round(plan.budget, 2),
        start=start,
        end=start + timedelta(days=plan.days - 1),
        arms=i.arms,
        rule=i.rule,
        summary=f"{i.arms} arms, {plan.days} days, budget {money(plan.budget)} "
        f"({i.assurance:.0%} assurance for a {i.lift:.0%} lift)",
        inputs=i,
        days=plan.days,
    )
