"""The Trials page's parts: counts by status, the status filter, and the table of trials
(a selected row opens the trial)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from trials.domain import TrialStatus, TrialSummary

__all__ = ["status_filter", "trials_table"]


def status_filter(summaries: list[TrialSummary]) -> list[TrialSummary]:
    """Running, draft and decided counts and the status pills; the trials shown."""
    counts = {s: sum(x.trial.spec.status == s for x in summaries) for s in TrialStatus}
    left, mid, right, _ = st.columns([1, 1, 1, 3])
    left.metric("Running", counts[TrialStatus.RUNNING])
    mid.metric("Drafts", counts[TrialStatus.DRAFT])
    right.metric("Decided", counts[TrialStatus.DECIDED])
    shown = st.pills(
        "Show",
        list(TrialStatus),
        selection_mode="multi",
        default=[TrialStatus.DRAFT, TrialStatus.RUNNING, TrialStatus.DECIDED],
        format_func=lambda s: f"{s.value.capitalize()} ({counts[s]})",
        key="status_filter",
    )
    return [x for x in summaries if x.trial.spec.status in (shown or [])]


def trials_table(rows: list[TrialSummary]) -> None:
    """One row per trial with its progress; selecting a row opens the Trial page."""
    st.caption("Select a row to open the trial.")
    picked = st.dataframe(
        _table(rows),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="trials_table",
        column_config={
            "Spend": st.column_config.NumberColumn(format="localized"),
            "Budget": st.column_config.NumberColumn(format="localized"),
            "Budget used": st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="percent"
            ),
            "Last data": st.column_config.DateColumn(),
        },
    )
    if picked and picked.selection.rows:
        chosen = rows[picked.selection.rows[0]].trial
        st.switch_page("app_pages/trial.py", query_params={"trial": str(chosen.id)})


def _table(rows: list[TrialSummary]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Trial": [x.trial.name for x in rows],
            "Status": [x.trial.spec.status.value for x in rows],
            "Demo": [x.trial.spec.is_demo for x in rows],
            "Primary metric": [x.trial.spec.primary_metric.value for x in rows],
            "Arms": [len(x.trial.arms) for x in rows],
            "Days with data": [x.days_with_data for x in rows],
            "Spend": [x.spend for x in rows],
            "Budget": [x.trial.spec.budget for x in rows],
            "Budget used": [x.budget_used for x in rows],
            "Currency": [x.trial.spec.currency for x in rows],
            "Last data": [x.last_data_date for x in rows],
            "Dates": [f"{x.trial.spec.start} → {x.trial.spec.end}" for x in rows],
        }
    )
