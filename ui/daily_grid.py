"""The Data page's grid of stored daily rows: add, change or delete rows and save them as
one checked, undoable edit (checked by the same reader as an uploaded file)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from trials.analysis.importing import RowsRefused, save_edited_rows
from trials.domain import Trial, UserError
from trials.domain.imports import ImportOutcome
from trials.ingest.daily import outcome_line
from trials.storage.store import TrialStore
from ui.access import may_change
from ui.import_reading import problems_table
from ui.session import flash
from ui.text import md

__all__ = ["daily_grid", "save_grid"]


def daily_grid(trials: TrialStore, trial: Trial) -> None:
    """The stored daily rows in an editable grid, saved as one checked, undoable edit."""
    names = {a.id: a.name for a in trial.all_arms}
    if not may_change(trials, "edit daily rows"):
        st.dataframe(_stored_frame(trials, trial, names), hide_index=True)
        return
    st.caption(
        "Add, change or delete rows, then save. Rows are checked as an import is; the save is "
        "one import you can undo."
    )
    edited = st.data_editor(
        _stored_frame(trials, trial, names),
        num_rows="dynamic",
        hide_index=True,
        column_config=_grid_columns(trial, list(names.values())),
        key=f"grid_{trial.id}",
    )
    if not st.button("Save changes", key=f"grid_save_{trial.id}"):
        return
    try:
        outcome = save_grid(trials, trial, edited)
    except RowsRefused as e:
        st.error(f"{len(e.problems)} problems; nothing was saved.")
        st.dataframe(problems_table(e.problems), hide_index=True)
        return
    except UserError as e:
        st.error(md(str(e)))
        return
    flash(outcome_line(outcome).capitalize() + "." if outcome.batch else "Nothing changed.")
    st.rerun()


def _stored_frame(trials: TrialStore, trial: Trial, names: dict[int, str]) -> pd.DataFrame:
    """The stored rows, one per segment; the Segment column only once a trial has one."""
    stored = trials.daily_results(trial.id, segments=True)
    frame = pd.DataFrame(
        {
            "Arm": pd.Series([names[r.arm_id] for r in stored], dtype="object"),
            "Day": pd.Series([r.day for r in stored], dtype="object"),
            "Impressions": pd.Series([r.impressions for r in stored], dtype="Int64"),
            "Clicks": pd.Series([r.clicks for r in stored], dtype="Int64"),
            "Conversions": pd.Series([r.conversions for r in stored], dtype="Int64"),
            "Spend": pd.Series([r.spend for r in stored], dtype="float"),
            "Revenue": pd.Series([r.revenue for r in stored], dtype="float"),
        }
    )
    if any(r.segment for r in stored):
        frame.insert(2, "Segment", pd.Series([r.segment for r in stored], dtype="object"))
    return frame


def _grid_columns(trial: Trial, arm_names: list[str]) -> dict:
    count = st.column_config.NumberColumn
    return {
        "Arm": st.column_config.SelectboxColumn(options=arm_names, required=True),
        "Day": st.column_config.DateColumn(
            min_value=trial.spec.start, max_value=trial.spec.end, required=True
        ),
        "Impressions": count(min_value=0, step=1, required=True),
        "Clicks": count(min_value=0, step=1, required=True),
        "Conversions": count(min_value=0, step=1, required=True),
        "Spend": count(min_value=0.0, format="%.2f", required=True),
        "Revenue": count(min_value=0.0, format="%.2f", required=True),
        "Segment": st.column_config.TextColumn(help="customer group, region, device or placement"),
    }


# The grid's columns and the field each one holds.
_FIELDS = {
    "Arm": "arm",
    "Day": "day",
    "Impressions": "impressions",
    "Clicks": "clicks",
    "Conversions": "conversions",
    "Spend": "spend",
    "Revenue": "revenue",
}


def save_grid(trials: TrialStore, trial: Trial, edited: pd.DataFrame) -> ImportOutcome:
    """The edited grid as rows (blank cells as None), checked and saved by the analysis."""
    fields = {**_FIELDS, **({"Segment": "segment"} if "Segment" in edited.columns else {})}
    frame = edited.rename(columns=fields)[list(fields.values())].astype(object)
    rows = frame.where(pd.notna(frame), None).to_dict("records")
    return save_edited_rows(trials, trial, rows)
