"""The trial selector shared by the per-trial pages, kept in the URL (``?trial=ID``)."""

from __future__ import annotations

import streamlit as st

from trials.domain import TrialSummary
from trials.storage.store import TrialStore

__all__ = ["pick_trial", "require_data"]


def pick_trial(trials: TrialStore, title: str) -> TrialSummary:
    """The trial chosen in the URL or the selector; stops the page when there are none."""
    summaries = {s.trial.id: s for s in trials.list_trials()}
    if not summaries:
        st.title(title)
        st.info("No trials yet.")
        st.page_link("app_pages/new_trial.py", label="Register a trial", icon=":material/add:")
        st.stop()
    requested = st.query_params.get("trial", "")
    ids = list(summaries)
    current = int(requested) if requested.isdigit() and int(requested) in summaries else ids[0]
    trial_id = st.selectbox(
        "Trial",
        ids,
        index=ids.index(current),
        format_func=lambda i: (
            f"{summaries[i].trial.name}  ({summaries[i].trial.spec.status.value})"
        ),
        label_visibility="collapsed",
    )
    if str(trial_id) != requested:
        st.query_params["trial"] = str(trial_id)
    return summaries[trial_id]


def require_data(summary: TrialSummary) -> None:
    """Stop the page with a pointer to the Data page when the trial has no results yet."""
    if summary.days_with_data:
        return
    st.info("No results yet: import the channels' daily numbers first.")
    st.page_link(
        "app_pages/data.py", label="Go to Data", query_params={"trial": str(summary.trial.id)}
    )
    st.stop()
