"""New trial: register what will be tested, how it will be judged, and its arms."""

import streamlit as st

from trials.domain import TrialSpec, TrialValidationError
from ui.session import flash, store
from ui.text import md
from ui.trial_form import show_problems, trial_form

st.title("New trial")
st.caption(
    "Write the trial down before the money is spent: the hypothesis, the metric it is "
    "decided on, and the rule for deciding."
)

submitted, slots = trial_form("new_trial", submit_label="Register trial")
if submitted:
    try:
        trial = store().create_trial(TrialSpec.build(**submitted.values))
    except TrialValidationError as problems:
        show_problems(slots, problems)
    else:
        flash(f"Registered {md(trial.name)} with {len(trial.arms)} arms.")
        st.switch_page("app_pages/trial.py", query_params={"trial": str(trial.id)})
