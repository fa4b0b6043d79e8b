"""The Data page's own-orders tab: upload the shop's orders, preview them and what they
would change in the results, import them; then the order settings and the reconciliation
with the channels' reports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from trials.analysis.importing import commit_orders, preview_orders
from trials.domain import AttributionRule, ResultsChoice, Trial, UserError
from trials.domain.imports import OverlapError
from trials.ingest.columns import ORDER_FIELDS
from trials.ingest.daily import outcome_line
from trials.ingest.orders import REQUIRED as ORDER_REQUIRED
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
from ui.reconciliation import show_reconciliation
from ui.session import flash
from ui.text import md, plural

__all__ = ["orders_import"]

_SOURCE_WORDS = {"channel": "channel reports", "orders": "own orders"}


def orders_import(trials: TrialStore, trial: Trial) -> None:
    """Upload the shop's orders, preview, import; then settings, reconciliation, UTM rules."""
    key = f"orders_{trial.id}"
    writable = may_change(trials, "import orders or change how they count")
    upload = (
        None
        if not writable
        else uploader(
            "Own orders (CSV, TSV or XLSX)",
            key,
            "One row per order (or per order and touch): order id, date or time, amount, status "
            "(paid, cancelled, refunded) and utm_source / utm_medium / utm_campaign / "
            "utm_content, or channel and creative columns.",
        )
    )
    if upload is not None:
        preview = _read_orders(trials, trial, key, upload)
        if preview is not None and preview.plan is not None:
            _confirm_and_import(trials, trial, preview, key)
    if writable:
        _order_settings(trials, trial)
    show_reconciliation(trials, trial)


def _read_orders(trials: TrialStore, trial: Trial, key: str, upload):
    """The reading options, the column mapping and what the reader found; the preview, or
    None when the file cannot be read at all."""
    settings = reading_options(key, with_preset=False)
    try:
        options = ImportOptions(**settings, mapping=mapping_overrides(key, ORDER_FIELDS))
        preview = preview_orders(trials, trial, upload.getvalue(), upload.name, options)
    except UserError as e:
        st.error(md(str(e)))
        return None
    mapping_editor(key, preview.reading.columns, ORDER_FIELDS, ORDER_REQUIRED)
    show_reading(preview.reading)
    return preview


def _confirm_and_import(trials: TrialStore, trial: Trial, preview, key: str) -> None:
    """The counts, the boxes a replacement or a big change needs, and the import button."""
    counts = preview.plan.counts()
    st.write(
        f"{plural(counts['new'], 'new order row')}, {counts['changed']} that "
        f"change stored orders, {counts['unchanged']} already stored."
    )
    replace = False
    if counts["changed"]:
        replace = st.checkbox(
            f"Replace {counts['changed']} stored orders (e.g. new statuses)",
            key=f"{key}_replace",
        )
    accepted = _effect(preview, trial, key)
    ready = preview.plan.writes and (replace or not counts["changed"]) and accepted
    if not st.button("Import orders", type="primary", disabled=not ready):
        return
    try:
        outcome = commit_orders(trials, trial, preview, replace=replace)
    except (OverlapError, UserError) as e:
        st.error(md(str(e)))
        return
    clear_uploader(key)
    flash(outcome_line(outcome, "order rows").capitalize() + ".")
    st.rerun()


def _effect(preview, trial: Trial, key: str) -> bool:
    """Per arm, the conversions and revenue the results use now and after the import; a
    big change needs its own box ticked. True when the import may go ahead."""
    effect = preview.effect
    if effect is None or not effect.changes:
        return True
    before, after = effect.source_before.value, effect.source_after.value
    st.caption(
        "What the results would use after this import: conversions and revenue from "
        + (
            f"{_SOURCE_WORDS[before]} now, {_SOURCE_WORDS[after]} after."
            if before != after
            else f"{_SOURCE_WORDS[after]}."
        )
    )
    currency = trial.spec.currency
    st.dataframe(
        pd.DataFrame(
            {
                "Arm": [a.arm for a in effect.arms],
                "Conversions now": [a.conversions_before for a in effect.arms],
                "Conversions after": [a.conversions_after for a in effect.arms],
                f"Revenue now ({currency})": [a.revenue_before for a in effect.arms],
                f"Revenue after ({currency})": [a.revenue_after for a in effect.arms],
            }
        ),
        hide_index=True,
    )
    if not preview.needs_confirmation:
        return True
    st.warning(md(preview.effect_warning))
    return st.checkbox(
        "I understand this changes the conversions the results use", key=f"{key}_accept_effect"
    )


def _order_settings(trials: TrialStore, trial: Trial) -> None:
    spec = trial.spec
    with st.form(f"order_settings_{trial.id}", border=False):
        c1, c2 = st.columns(2)
        rule = c1.selectbox(
            "An order several arms claim is counted once, by",
            list(AttributionRule),
            index=list(AttributionRule).index(spec.attribution_rule),
            format_func=lambda r: r.label,
        )
        source = c2.selectbox(
            "The models read conversions and revenue from",
            list(ResultsChoice),
            index=list(ResultsChoice).index(spec.results_source),
            format_func=lambda r: r.label,
        )
        if st.form_submit_button("Save order settings"):
            trials.update_trial(
                trial.id,
                spec.with_changes(attribution_rule=rule, results_source=source),
                [a.id for a in trial.arms],
            )
            flash("Saved the order settings.")
            st.rerun()
