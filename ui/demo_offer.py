"""The offer of demo data shown while the workspace has no trials."""

import streamlit as st

from trials.analysis.demo import load_demo
from trials.storage.store import TrialStore
from ui.session import flash

__all__ = ["offer_demo"]


def offer_demo(trials: TrialStore) -> None:
    if not trials.is_empty() or not trials.can_write:
        return
    with st.container(border=True):
        st.markdown(
            "**Welcome to Channel Trials.** Your workspace has no trials yet. Load a few demo "
            "trials (social channels, a search headline test, an email subject-line test) to "
            "look around; they are marked as demo and can be deleted."
        )
        if st.button(
            "Load demo trials", type="primary", icon=":material/science:", key="load_demo"
        ):
            report = load_demo(trials)
            flash(f"Loaded {len(report.created)} demo trials.")
            st.rerun()
