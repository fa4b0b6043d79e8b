"""Budget by goal on the Plan page: "N customers (or so much revenue) by this date: what
will it cost, and where?". The maths is ``inference.planning.goal``, bridged to the trials
by ``trials.analysis.goal``; this only asks and draws."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from trials.analysis.goal import GoalRequest, GoalResult, goal_trials, plan_by_goal
from trials.domain import TrialStatus, UserError
from ui.fits import analysis_for, data_digest, fit_with_progress
from ui.session import store
from ui.text import md, money, number

__all__ = ["goal_planner", "show_goal_plan"]


def goal_planner(key: str) -> GoalResult | None:
    """Draw the goal form; returns the plan once the user has asked for one."""
    trials = store()
    with_data = [
        s.trial
        for s in trials.list_trials()
        if s.days_with_data and s.trial.spec.status is not TrialStatus.ARCHIVED
    ]
    currencies = sorted({t.spec.currency for t in with_data})
    with st.form(f"{key}_form", border=True):
        kind = st.radio("Goal", ["Conversions", "Revenue"], horizontal=True, key=f"{key}_kind")
        target = st.number_input(
            "Goal: conversions, or revenue in the currency",
            min_value=1.0,
            value=500.0,
            step=50.0,
            key=f"{key}_target",
        )
        today = date.today()
        left, right = st.columns(2)
        start = left.date_input("Spending from", value=today, key=f"{key}_from")
        by = right.date_input("Reach it by", value=today + timedelta(days=30), key=f"{key}_by")
        currency = st.selectbox(
            "Currency",
            currencies or ["—"],
            key=f"{key}_currency",
            help="A plan is made in one currency: trials in other currencies are planned apart.",
        )
        chosen = st.multiselect(
            "Trials to plan from (none: every trial with results in the currency)",
            [t.id for t in with_data],
            format_func=lambda i: next(
                f"{t.name} ({t.spec.currency})" for t in with_data if t.id == i
            ),
            key=f"{key}_trials",
        )
        channels = st.text_input(
            "Only these channels (comma-separated; one not tried yet is planned from past "
            "trials' rates)",
            key=f"{key}_channels",
        )
        asked = st.form_submit_button("Plan the budget", type="primary")
    if asked:
        st.session_state[f"{key}_result"] = _plan(
            kind, target, start, by, currency, chosen, channels, with_data
        )
    result = st.session_state.get(f"{key}_result")
    if result is not None:
        show_goal_plan(result)
    return result


def _plan(kind, target, start, by, currency, chosen, channels, with_data) -> GoalResult | None:
    trials = store()
    if not with_data:
        st.warning(
            "No trial has results yet: the budget for a goal is planned from what trials "
            "have measured. Load the demo or import results first.",
            icon=":material/info:",
        )
        return None
    request = GoalRequest(
        metric="conversions" if kind == "Conversions" else "revenue",
        target=float(target),
        by=by,
        start=start,
        channels=tuple(dict.fromkeys(c.strip() for c in channels.split(",") if c.strip())),
    )
    if request.days < 1:
        st.error("The goal's date is before the first day of spending: choose a later date.")
        return None
    try:
        picked, currency = goal_trials(trials, [str(i) for i in chosen], currency)
        if chosen and not picked:
            raise UserError(f"none of the chosen trials is in {currency}")
        if not picked and not request.channels:
            raise UserError(f"no trial in {currency} has results yet")
        analyses = []
        for t in picked:
            outcome = fit_with_progress(t, f"Fitting the model for {t.name}…", data_digest(t))
            if outcome.posterior is None:
                raise UserError(f"the model could not be fitted for {t.name}: {outcome.error}")
            analyses.append(analysis_for(t, outcome.posterior))
        with st.spinner("Simulating the goal…"):
            return plan_by_goal(trials, analyses, request, currency)
    except UserError as e:
        st.error(f"Cannot plan this: {md(str(e))}.", icon=":material/error:")
        return None


def show_goal_plan(result: GoalResult) -> None:
    """The answer per probability, its split per channel and arm, what it assumes."""
    cur = result.currency
    if result.plan is None:
        st.warning(md(result.reason or "No plan."), icon=":material/info:")
        _notes(result)
        return
    days = result.request.days
    for level, sentence in zip(result.plan.levels, result.sentences(), strict=True):
        st.markdown(f"**{md(sentence)}**")
        if not level.reachable:
            continue
        rows = []
        for n, arm in enumerate(result.arms):
            daily = level.arm_daily_spend[n]
            rows.append(
                {
                    "Arm": f"{arm.trial}: {arm.channel} · {arm.creative}"
                    if arm.trial
                    else f"{arm.channel} (untested)",
                    "Spend a day now": money(arm.current_daily_spend, cur),
                    "Spend a day": money(daily, cur),
                    "In total": money(daily * days, cur),
                    "Expected conversions": number(level.expected_conversions[n]),
                    "Expected revenue": money(level.expected_revenue[n], cur),
                    "Based on": arm.basis,
                }
            )
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    with st.expander("What this assumes"):
        for line in result.assumptions:
            st.markdown(f"- {md(line)}")
    _notes(result)


def _notes(result: GoalResult) -> None:
    for line in result.notes:
        st.caption(md(line))
