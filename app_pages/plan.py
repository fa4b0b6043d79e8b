"""Plan a trial: how much to spend, for how long, on how many arms, to learn something."""

import streamlit as st

from ui.planner import PLAN_KEY, planner, suggestion_from

st.title("Plan a trial")
st.caption(
    "Before the money is spent: can this budget answer the question? The planner simulates "
    "the trial many times from what you know today and reports how often its decision rule "
    "reaches a confident answer, and what it takes to get there."
)
plan = planner("plan_page")
if plan is not None:
    suggestion = suggestion_from(plan)
    if suggestion is not None and st.button(
        "Register a trial with this plan", type="primary", icon=":material/add_circle:"
    ):
        st.session_state[PLAN_KEY] = suggestion
        st.switch_page("app_pages/new_trial.py")
