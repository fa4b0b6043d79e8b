"""Data: bring a trial's results in (platform exports, own orders, typed rows) and see
where every number came from."""

import streamlit as st

from ui.daily_grid import daily_grid
from ui.import_history import import_history
from ui.orders_import import orders_import
from ui.results_import import results_import
from ui.session import show_flash, store
from ui.text import md
from ui.trial_picker import pick_trial

trials = store()
trial = pick_trial(trials, "Data").trial

st.title(f"Data · {md(trial.name)}")
st.caption(
    f"{trial.spec.start} → {trial.spec.end} · {len(trial.arms)} arms · rows are matched to "
    "arms by channel and creative"
)
show_flash()

results_tab, orders_tab, grid_tab, history_tab = st.tabs(
    ["Import results", "Own orders", "Edit daily rows", "Import history"]
)
with results_tab:
    results_import(trials, trial)
with orders_tab:
    orders_import(trials, trial)
with grid_tab:
    daily_grid(trials, trial)
with history_tab:
    import_history(trials, trial)
