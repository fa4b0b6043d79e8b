"""New trial: register what will be tested, how it will be judged, and its arms."""

import streamlit as st

from trials.domain import TrialSpec, TrialValidationError
from ui.form_problems import show_problems
from ui.planner import PLAN_KEY, planner, suggestion_from
from ui.rule_check import show_look_rates
from ui.session import flash, store
from ui.text import md
from ui.trial_form import trial_form

st.title("New trial")
st.caption(
    "Write the trial down before the money is spent: the hypothesis, the metric it is "
    "decided on, and the rule for deciding."
)

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

st.subheader("2 · Register")
submitted, slots = trial_form("new_trial", submit_label="Register trial", suggested=suggested)
if submitted:
    try:
        trial = store().create_trial(TrialSpec.build(**submitted.values))
    except TrialValidationError as problems:
        show_problems(slots, problems)
    else:
        st.session_state.pop(PLAN_KEY, None)
        flash(f"Registered {md(trial.name)} with {len(trial.arms)} arms.")
        st.switch_page("app_pages/trial.py", query_params={"trial": str(trial.id)})
