"""Plan a trial: how much to spend, for how long, on how many arms, to learn something;
or, by goal, what reaching N conversions (or so much revenue) by a date will cost."""

import streamlit as st

from ui.goal_planner import goal_planner
from ui.planner import PLAN_KEY, planner, suggestion_from

st.title("Plan a trial")
trial_tab, goal_tab = st.tabs(["Plan a trial", "Plan by goal"])
with trial_tab:
    st.caption(
        "Before the money is spent: can this budget answer the question? The planner "
        "simulates the trial many times from what you know today and reports how often its "
        "decision rule reaches a confident answer, and what it takes to get there."
    )
    plan = planner("plan_page")
    if plan is not None:
        suggestion = suggestion_from(plan)
        if suggestion is not None and st.button(
            "Register a trial with this plan", type="primary", icon=":material/add_circle:"
        ):
            st.session_state[PLAN_KEY] = suggestion
            st.switch_page("app_pages/new_trial.py")
with goal_tab:
    st.caption(
        "A goal by a date: how much to spend, and where, to reach it with 50 % and 80 % "
        "probability. Planned from your trials' posteriors and response curves: the money "
        "goes where the next unit spent brings the most, and the goal is simulated many "
        "times over the days left."
    )
    goal_planner("plan_goal")
