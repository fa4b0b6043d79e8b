"""Portfolio: every trial of the workspace at once — spend, revenue, ROAS and CPA per
channel, trial, week or month in one table per currency (converted only at rates entered),
the decision log per channel, where the next money goes and new channels to try."""

import streamlit as st

from ui.portfolio import show_portfolio
from ui.session import show_flash, store

st.title("Portfolio")
show_flash()
show_portfolio(store())
