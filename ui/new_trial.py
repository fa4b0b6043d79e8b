"""The New trial page's two steps: plan the budget and length (optional), then register
the trial with the form, pre-filled from the plan when one was used."""

from __future__ import annotations

import streamlit as st

from trials.domain import TrialSpec, TrialValidationError
from ui.access import may_change
from ui.form_problems import show_problems
from ui.planner import PLAN_KEY, PlanSuggestion, planner, suggestion_from
from ui.rule_check import show_look_rates
from ui.session import flash, store
from ui.text import md
from ui.trial_form import trial_form

__all__ = ["plan_step", "register_step"]


def plan_step() -> PlanSuggestion | None:
    """The planner in an expander and the button that hands its plan to the form below;
    returns the plan the form starts from, if any."""
    suggested = st.session_state.get(PLAN_KEY)
    with st.expander("1 · Plan the budget and length", expanded=suggested is None):
        plan = planner("new_trial_planner")
        if plan is not None:
            suggestion = suggestion_from(plan)
            if suggestion is None:
                st.caption("This plan found no length that works, so there is nothing to use yet.")
            elif st.button("Use this plan below", icon=":material/arrow_downward:"):
                st.session_state[PLAN_KEY] = suggested = suggestion
    if suggested is not None:
        st.info(
            f"From the plan: {md(suggested.summary)}. Budget, dates, arm rows and the decision "
            "rule below start from it.",
            icon=":material/lightbulb:",
        )
        if suggested.inputs is not None:
            show_look_rates(suggested.inputs, suggested.days, "from the plan")
    return suggested


def register_step(suggested: PlanSuggestion | None) -> None:
    """The registration form; a valid trial is saved and opened on the Trial page."""
    if not may_change(store(), "register trials"):
        return
    submitted, slots = trial_form("new_trial", submit_label="Register trial", suggested=suggested)
    if not submitted:
        return
    try:
        trial = store().create_trial(TrialSpec.build(**submitted.values))
    except TrialValidationError as problems:
        show_problems(slots, problems)
    else:
        st.session_state.pop(PLAN_KEY, None)
        flash(f"Registered {md(trial.name)} with {len(trial.arms)} arms.")
        st.switch_page("app_pages/trial.py", query_params={"trial": str(trial.id)})
