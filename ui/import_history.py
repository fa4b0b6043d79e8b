"""Where a trial's data came from: one row per import, and undoing an import."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from trials.domain import Trial, UserError
from trials.storage.store import TrialStore
from ui.access import may_change
from ui.session import flash
from ui.text import md

__all__ = ["batches_table", "import_history"]


def batches_table(batches) -> pd.DataFrame:
    """Where a trial's data came from: one row per import."""
    return pd.DataFrame(
        {
            "Import": [b.id for b in batches],
            "Kind": [b.kind for b in batches],
            "File": [b.file_name or "" for b in batches],
            "Rows": [b.row_count for b in batches],
            "Status": [b.status for b in batches],
            "When (UTC)": [b.created_at.strftime("%Y-%m-%d %H:%M") for b in batches],
            "By": [b.created_by for b in batches],
            "Undone by": [b.undone_by or "" for b in batches],
        }
    )


def import_history(trials: TrialStore, trial: Trial) -> None:
    batches = trials.import_batches(trial.id)
    if not batches:
        st.caption("No imports yet.")
        return
    st.dataframe(batches_table(batches), hide_index=True)
    live = [b for b in reversed(batches) if not b.undone]
    if not live or not may_change(trials, "undo imports"):
        return
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = c1.selectbox(
        "Undo an import",
        live,
        format_func=lambda b: f"{b.id} · {b.file_name or b.kind} · {b.row_count} rows",
        key=f"undo_pick_{trial.id}",
    )
    if c2.button("Undo", key=f"undo_{trial.id}"):
        try:
            trials.undo_batch(trial.id, chosen.id)
        except UserError as e:
            st.error(md(str(e)))
        else:
            flash(f"Undid import {chosen.id}: its rows are gone and the rows it replaced are back.")
            st.rerun()
