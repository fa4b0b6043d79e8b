"""Trial: one trial's settings, arms and data so far, with edit, status and archive."""

import streamlit as st

from ui.rounds import show_rounds, start_next_round
from ui.session import store
from ui.trial_manage import edit_trial, manage_trial
from ui.trial_page import arms_table, daily_data, show_amendments, show_header, trial_verdict
from ui.trial_picker import pick_trial

trials = store()
summary = pick_trial(trials, "Trial")
show_header(summary)
totals = trial_verdict(trials, summary)
amendments = show_amendments(trials, summary.trial)

arms_tab, daily_tab, rounds_tab, edit_tab, manage_tab = st.tabs(
    ["Arms", "Daily data", "Rounds", "Edit", "Manage"]
)
with arms_tab:
    arms_table(summary, totals)
with daily_tab:
    daily_data(trials, summary.trial)
with rounds_tab:
    show_rounds(summary.trial)
    start_next_round(trials, summary.trial, bool(summary.days_with_data))
with edit_tab:
    edit_trial(trials, summary.trial, amendments)
with manage_tab:
    manage_trial(trials, summary)
