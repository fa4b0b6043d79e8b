"""What past trials teach: priors per channel and stage learned from finished trials."""

import streamlit as st

from ui.priors import learned_priors_table, priors_backtest_view, trial_priors_form
from ui.session import store

st.title("What past trials teach")
st.caption(
    "Finished trials (decided, archived, or past their end date) say what a new trial's "
    "click-through rate, conversion rate, revenue per conversion and cost per click are "
    "likely to be, per channel. A new trial can start from that instead of from nothing."
)
trials = store()
learned_priors_table(trials)
st.subheader("Would it have helped?")
priors_backtest_view(trials)
st.subheader("Use them in a trial's analysis")
trial_priors_form(trials)
