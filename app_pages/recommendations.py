"""Recommendations: the trial's verdict, what to do with each arm and why, the next
round's budget split, how returns change with spend, and the plan to step a winner's spend
up."""

import streamlit as st

from ui.fits import analysis_for, fit_with_progress
from ui.recommendations import (
    record_decision,
    show_allocation,
    show_curves,
    show_recommendations,
)
from ui.results import report_downloads, show_verdict
from ui.rounds import pick_round, round_caption, round_without_data
from ui.scale_plan import show_scale_plans
from ui.session import show_flash, store
from ui.text import md
from ui.trial_picker import pick_trial, require_data

trials = store()
summary = pick_trial(trials, "Recommendations")
st.title(f"Recommendations · {md(summary.trial.name)}")
show_flash()
require_data(summary)
trial = pick_round(summary.trial)
round_caption(trial)
round_without_data(trial)

outcome = fit_with_progress(trial, "Fitting the full model")
if outcome.error:
    st.error(f"The model could not be fitted: {md(outcome.error)}")
    st.stop()

analysis = analysis_for(trial, outcome.posterior)
show_verdict(analysis)
st.subheader("Per arm")
show_recommendations(analysis)
st.subheader("Next round's budget")
split = show_allocation(analysis, summary.spend)
st.subheader("Returns as spend grows")
show_curves(analysis)
if trial.is_current_round:
    st.subheader("Scale plan")
    show_scale_plans(analysis)
    st.subheader("Decision log")
    record_decision(analysis)
else:
    st.info(
        f"This is round {trial.round_number}, an earlier round: decisions and scale plans "
        "are written on the current round."
    )
st.subheader("Share")
report_downloads(split or analysis)
