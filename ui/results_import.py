"""The Data page's results import: upload a daily results export, preview it against the
stored rows, and import it (nothing is written before the import button is pressed)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from trials.analysis.importing import commit_import, preview_import
from trials.domain import Trial, UserError
from trials.domain.imports import OverlapError
from trials.ingest.columns import DAILY_FIELDS
from trials.ingest.daily import outcome_line
from trials.ingest.reading import ImportOptions
from trials.storage.store import TrialStore
from ui.access import may_change
from ui.import_reading import (
    clear_uploader,
    mapping_editor,
    mapping_overrides,
    reading_options,
    show_reading,
    uploader,
)
from ui.session import flash
from ui.text import md, plural

__all__ = ["results_import"]


def results_import(trials: TrialStore, trial: Trial) -> None:
    """Upload a daily results export, preview it against stored data, and import it."""
    if not may_change(trials, "import data"):
        return
    key = f"results_{trial.id}"
    upload = uploader(
        "Daily results export (CSV, TSV or XLSX)",
        key,
        "Google Ads and Meta Ads exports, or any table with date, channel, creative, "
        "impressions, clicks, conversions, spend and revenue columns (English or Chinese).",
    )
    if upload is None:
        st.caption(
            "Files up to 50 MB. Title lines, total rows, currency signs, thousands "
            "separators and Chinese dates are handled; you see every row's problem before "
            "anything is written."
        )
        return
    preview = _read_upload(trials, trial, key, upload)
    if preview is None or preview.plan is None:
        return
    _show_plan(preview)
    replace = _confirm_replacing(preview.plan, key)
    add_arms = _confirm_new_arms(preview.plan, key)
    _import_button(trials, trial, preview, key, replace=replace, add_arms=add_arms)


def _read_upload(trials: TrialStore, trial: Trial, key: str, upload):
    """The reading options, the column mapping and what the reader found; the preview, or
    None when the file cannot be read at all."""
    settings = reading_options(key, with_preset=True)
    try:
        options = ImportOptions(**settings, mapping=mapping_overrides(key, DAILY_FIELDS))
        preview = preview_import(trials, trial, upload.getvalue(), upload.name, options)
    except UserError as e:
        st.error(md(str(e)))
        return None
    reading = preview.reading
    if reading.columns is not None:
        required = [
            f
            for f in DAILY_FIELDS
            if f not in ("revenue", "segment") and not (f == "channel" and settings["channel"])
        ]
        mapping_editor(key, reading.columns, DAILY_FIELDS, required)
    show_reading(reading)
    return preview


def _show_plan(preview) -> None:
    """The rows as read and how many are new, changed or already stored."""
    reading, plan = preview.reading, preview.plan
    with st.expander(f"The {len(reading.rows)} rows as read"):
        st.dataframe(_rows_table(reading.rows), hide_index=True)
    counts = plan.counts()
    c1, c2, c3 = st.columns(3)
    c1.metric("New rows", counts["new"])
    c2.metric("Rows that change stored numbers", counts["changed"])
    c3.metric("Rows already stored", counts["unchanged"])
    if plan.same_file is not None and not plan.writes:
        b = plan.same_file
        st.info(
            f"This file was imported already (import {b.id}, "
            f"{b.created_at:%Y-%m-%d %H:%M} UTC, by {md(b.created_by)}); nothing would change."
        )


def _confirm_replacing(plan, key: str) -> bool:
    """The stored rows the file would change, and the box that allows it."""
    changed = plan.of("changed")
    if not changed:
        return False
    st.warning(
        "These rows would replace numbers already stored "
        "(impressions / clicks / conversions / spend / revenue):"
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Row": [c.row.row for c in changed],
                "Arm": [c.row.arm_name for c in changed],
                "Day": [c.row.day for c in changed],
                "Stored": [_numbers(c.old) for c in changed],
                "In the file": [_numbers(c.row) for c in changed],
            }
        ),
        hide_index=True,
    )
    return st.checkbox(f"Replace these {len(changed)} stored rows", key=f"{key}_replace")


def _confirm_new_arms(plan, key: str) -> bool:
    """The arms the file names that the trial lacks, and the box that adds them."""
    if not plan.unknown_arms:
        return False
    names = ", ".join(f"{c} · {k}" for c, k in plan.unknown_arms)
    st.warning(f"The file names arms this trial does not have: {md(names)}.")
    return st.checkbox(
        f"Add these {len(plan.unknown_arms)} arms to the trial", key=f"{key}_add_arms"
    )


def _import_button(
    trials: TrialStore, trial: Trial, preview, key: str, *, replace: bool, add_arms: bool
) -> None:
    plan, rows = preview.plan, preview.reading.rows
    something = plan.writes or bool(plan.unknown_arms)
    ready = (
        something and (replace or not plan.of("changed")) and (add_arms or not plan.unknown_arms)
    )
    if not st.button(f"Import {plural(len(rows), 'row')}", type="primary", disabled=not ready):
        return
    try:
        outcome = commit_import(trials, trial, preview, replace=replace, add_arms=add_arms)
    except (OverlapError, UserError) as e:
        st.error(md(str(e)))
        return
    clear_uploader(key)
    flash(outcome_line(outcome).capitalize() + ".")
    st.rerun()


def _numbers(r) -> str:
    return (
        f"{r.impressions:,} / {r.clicks:,} / {r.conversions:,} / {r.spend:,.2f} / {r.revenue:,.2f}"
    )


def _rows_table(rows) -> pd.DataFrame:
    segments = {"Segment": [r.segment for r in rows]} if any(r.segment for r in rows) else {}
    return pd.DataFrame(
        {
            "Row": [r.row for r in rows],
            "Day": [r.day for r in rows],
            "Channel": [r.channel for r in rows],
            "Creative": [r.creative for r in rows],
            **segments,
            "Impressions": [r.impressions for r in rows],
            "Clicks": [r.clicks for r in rows],
            "Conversions": [r.conversions for r in rows],
            "Spend": [r.spend for r in rows],
            "Revenue": [r.revenue for r in rows],
        }
    )
