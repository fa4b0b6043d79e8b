"""The Recommendations page's *Scale plan* section: for each arm the verdict says to scale
(or that has a plan), write down a plan to step its daily spend up with the stop
condition first; then planned against actual spend per day, the marginal ROAS band
against break-even, and the proposed next step or stop. Viewers see it read-only."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from trials.analysis.result import TrialAnalysis
from trials.analysis.scale_plan import (
    OFF_PLAN,
    ScaleTracking,
    end_plan,
    suggested_start,
    track_plan,
)
from trials.domain import TrialValidationError, UserError
from trials.domain.scale_plans import ScalePlan, ScaleSettings
from ui.access import may_change
from ui.session import flash, store
from ui.text import md, money, percent

__all__ = ["show_scale_plans"]

KIND_BOX = {"step_up": st.success, "stop": st.warning, "hold": st.info, "ended": st.info}
LABELS = {
    "base_daily_spend": "Daily spend at the first step",
    "step": "More spend per step (%)",
    "step_days": "Days at each step",
    "stop_probability": "Stop when below break-even with probability (%)",
}


def show_scale_plans(analysis: TrialAnalysis) -> None:
    trials = store()
    trial = analysis.trial
    shown = 0
    for arm in trial.arms:
        plans = trials.scale_plans(trial.id, arm.id)
        to_scale = analysis.arm_decision(arm.id).recommendation == "scale"
        if not to_scale and not plans:
            continue
        shown += 1
        st.markdown(f"**{md(arm.name)}**")
        plan = plans[-1] if plans else None
        if plan is None or not plan.active:
            if plan is not None:
                _show_tracking(track_plan(analysis, plan))
            if may_change(trials, "write scale plans"):
                _plan_form(analysis, arm, None)
            continue
        tracking = track_plan(analysis, plan)
        _show_tracking(tracking)
        if trials.can_write:
            with st.expander("Replace or end this plan"):
                _plan_form(analysis, arm, plan)
                _end_form(tracking)
        else:
            may_change(trials, "write or end scale plans")
    if not shown:
        st.caption(
            "No arm to scale yet: when the verdict says *Scale the winner*, a plan to step "
            "its daily spend up is written down here, with its stop condition first."
        )


def _plan_form(analysis: TrialAnalysis, arm, current: ScalePlan | None) -> None:
    cur = analysis.trial.spec.currency
    base, first = suggested_start(analysis, arm.id)
    defaults = current.settings if current else ScaleSettings(base or 0.0)
    start = current.start if current else first or date.today()
    with st.form(f"scale_plan_{arm.id}_{current.id if current else 0}"):
        if current is None:
            st.caption(
                "Write the plan down before the first step: its stop condition cannot be "
                "changed afterwards (a new plan replaces it, with a reason)."
            )
        c1, c2 = st.columns(2)
        spend = c1.number_input(
            f"{LABELS['base_daily_spend']} ({cur})",
            min_value=0.0,
            value=float(defaults.base_daily_spend),
            step=1.0,
        )
        first_day = c2.date_input("First day", value=start)
        step = c1.number_input(
            LABELS["step"], min_value=0.0, max_value=1000.0, value=defaults.step * 100, step=5.0
        )
        days = c2.number_input(
            LABELS["step_days"], min_value=1, max_value=365, value=defaults.step_days
        )
        probability = c1.number_input(
            LABELS["stop_probability"],
            min_value=0.0,
            max_value=100.0,
            value=defaults.stop_probability * 100,
            step=5.0,
        )
        reason = (
            st.text_input("Why does a new plan replace the written one?")
            if current is not None
            else ""
        )
        label = "Replace the plan" if current is not None else "Write down the plan"
        submitted = st.form_submit_button(label, type="primary" if current is None else "secondary")
    if not submitted:
        return
    settings = ScaleSettings(float(spend), step / 100, int(days), probability / 100)
    try:
        plan = store().write_scale_plan(
            analysis.trial.id, arm.id, settings, first_day, reason=reason
        )
    except TrialValidationError as e:
        for p in e.problems:
            st.error(f"{LABELS.get(p.field, p.field)}: {md(p.message)}")
    except UserError as e:
        st.error(md(str(e)))
    else:
        flash(f"Wrote down the scale plan for {plan.arm_name}.")
        st.rerun()


def _end_form(tracking: ScaleTracking) -> None:
    plan = tracking.plan
    with st.form(f"end_scale_plan_{plan.id}"):
        reason = st.text_input("Why does the plan end?")
        submitted = st.form_submit_button("End the plan")
    if not submitted:
        return
    try:
        ended = end_plan(store(), tracking, reason)
    except UserError as e:
        st.error(md(str(e)))
    else:
        flash(f"The scale plan for {ended.arm_name} is {ended.status.value}.")
        st.rerun()


def _show_tracking(t: ScaleTracking) -> None:
    plan, cur = t.plan, t.currency
    written = (
        f"Written by {md(plan.created_by)} on {plan.created_at:%Y-%m-%d}: from "
        f"{plan.start:%Y-%m-%d}, {money(plan.base_daily_spend, cur)} a day, "
        f"{percent(plan.step, 0)} more every {plan.step_days} days; "
        f"{md(plan.stop_condition())}."
    )
    if plan.replaces:
        written += f" It replaced an earlier plan: {md(plan.reason)}."
    st.markdown(written)
    box = KIND_BOX.get(t.proposal.kind, st.info)
    box(md(t.proposal.text))
    for note in t.notes:
        st.warning(md(note))
    if t.days:
        frame = pd.DataFrame(
            [
                {"day": d.day.isoformat(), "spend": d.planned_spend, "series": "planned"}
                for d in t.days
            ]
            + [
                {"day": d.day.isoformat(), "spend": d.actual_spend, "series": "actual"}
                for d in t.days
                if d.actual_spend is not None
            ]
        )
        chart = (
            alt.Chart(frame)
            .mark_line(point=True, interpolate="step-after")
            .encode(
                x=alt.X("day:T", title="Day"),
                y=alt.Y("spend:Q", title=f"Daily spend ({cur})"),
                color=alt.Color("series:N", title=None),
                strokeDash=alt.StrokeDash("series:N", legend=None),
            )
        )
        st.altair_chart(chart.properties(height=220), width="stretch")
        off = [s for s in t.steps if s.off_plan]
        caption = "Planned against actual daily spend."
        if off:
            caption += (
                f" Off the plan by more than {OFF_PLAN:.0%}: step "
                + ", ".join(str(s.index + 1) for s in off)
                + "."
            )
        st.caption(caption)
    if t.marginal is not None and t.marginal_curve:
        m, be = t.marginal, t.break_even_spend
        st.markdown(
            f"Marginal ROAS at the current step: **{m.median:.2f}** (94% interval "
            f"{m.low:.2f}–{m.high:.2f}); below break-even {plan.break_even_roas:g} with "
            f"probability **{percent(t.p_below_break_even, 0)}** (the plan stops at "
            f"{percent(plan.stop_probability, 0)}). It falls to break-even at about "
            f"{money(be.median, cur)} a day ({money(be.low, cur)}–{money(be.high, cur)})."
        )
        _marginal_chart(t)
    elif t.curve_reason:
        st.caption(md(t.curve_reason[0].upper() + t.curve_reason[1:] + "."))


def _marginal_chart(t: ScaleTracking) -> None:
    frame = pd.DataFrame(t.marginal_curve, columns=["spend", "median", "low", "high"])
    x = alt.X("spend:Q", title=f"Daily spend ({t.currency})")
    band = alt.Chart(frame).mark_area(opacity=0.25).encode(x=x, y="low:Q", y2="high:Q")
    line = alt.Chart(frame).mark_line().encode(x=x, y=alt.Y("median:Q", title="Marginal ROAS"))
    now = t.plan.step_spend(t.current_step or 0)
    marks = pd.DataFrame({"spend": [now], "break_even": [t.plan.break_even_roas]})
    step = alt.Chart(marks).mark_rule(strokeDash=[4, 4]).encode(x="spend:Q")
    even = alt.Chart(marks).mark_rule(color="#d62728", strokeDash=[6, 4]).encode(y="break_even:Q")
    st.altair_chart((band + line + step + even).properties(height=220), width="stretch")
    st.caption(
        "Marginal ROAS against daily spend (band: 94% interval). Dotted: the current "
        "step's planned spend; dashed red: break-even."
    )
