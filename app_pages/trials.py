"""Trials: every trial in the workspace, its status and how far its data has come."""

import streamlit as st

from ui.session import show_flash, store
from ui.trial_list import status_filter, trials_table

st.title("Trials")
show_flash()

summaries = store().list_trials()
if not summaries:
    st.info("No trials yet. Register one under **New trial**, or load the demo trials above.")
    st.page_link("app_pages/new_trial.py", label="Register a trial", icon=":material/add:")
    st.stop()

rows = status_filter(summaries)
if not rows:
    st.info("No trial has the chosen status.")
    st.stop()
trials_table(rows)
