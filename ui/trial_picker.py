"""The trial selector shared by the per-trial pages, kept in the URL (``?trial=ID``)."""

from __future__ import annotations

import streamlit as st

from trials.domain import TrialSummary
from trials.storage.store import TrialStore
from trials.storage.trials import row_id

__all__ = ["pick_trial", "require_data"]


def pick_trial(trials: TrialStore, title: str) -> TrialSummary:
    """The trial chosen in the URL or the selector; stops the page when there are none,
    and when the URL names a trial that is not here ("not found", then the selector)."""
    summaries = {s.trial.id: s for s in trials.list_trials()}
    if not summaries:
        st.title(title)
        st.info("No trials yet.")
        st.page_link("app_pages/new_trial.py", label="Register a trial", icon=":material/add:")
        st.stop()
    requested = st.query_params.get("trial", "")
    ids = list(summaries)
    current = row_id(requested) if requested else ids[0]
    notice = st.container()  # above the selector
    trial_id = st.selectbox(
        "Trial",
        ids,
        index=ids.index(current) if current in summaries else None,
        format_func=lambda i: (
            f"{summaries[i].trial.name}  ({summaries[i].trial.spec.status.value})"
        ),
        placeholder="Choose a trial",
        label_visibility="collapsed",
    )
    if trial_id is None:
        # Whatever the URL holds (an old link, a deleted trial, 50,000 digits), never echoed.
        with notice:
            st.title(title)
            st.warning("Trial not found: the link may be old or the trial deleted. Choose one:")
        st.stop()
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
