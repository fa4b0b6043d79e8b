"""The Data page's parts: upload and preview an export, own orders and reconciliation,
the editable grid of daily rows, and the import history with undo.

Nothing is written until the user presses the import button under a preview that shows
every problem and every change; the domain layer (``trials.ingest.daily``, ``trials.ingest.orders``,
``trials.domain.attribution``) does the reading, checking, crediting and writing.
"""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import streamlit as st

from trials.analysis.importing import commit_import, commit_orders, preview_import, preview_orders
from trials.analysis.sources import reconcile
from trials.domain import AttributionRule, ResultsChoice, Trial, UserError
from trials.domain.imports import OverlapError, UtmRule
from trials.ingest.columns import DAILY_FIELDS, ORDER_FIELDS, PRESETS
from trials.ingest.daily import (
    ImportOptions,
    RowProblem,
    outcome_line,
    read_daily_file,
)
from trials.ingest.orders import REQUIRED as ORDER_REQUIRED
from trials.storage.store import TrialStore
from ui.session import flash
from ui.text import md, money, plural

__all__ = [
    "batches_table",
    "daily_grid",
    "import_history",
    "orders_import",
    "results_import",
]

FILE_TYPES = ["csv", "tsv", "txt", "xlsx"]
DECIMALS = {"detect": "Detect from the file", ".": "Point (1,234.56)", ",": "Comma (1.234,56)"}
DATE_ORDERS = {
    "detect": "Detect from the file",
    "dmy": "Day first (31/12/2026)",
    "mdy": "Month first (12/31/2026)",
}


def _uploader(label: str, key: str, help_text: str):
    # A new key after each import empties the uploader for the next file.
    generation = st.session_state.get(f"{key}_generation", 0)
    return st.file_uploader(label, type=FILE_TYPES, key=f"{key}_{generation}", help=help_text)


def _clear_uploader(key: str) -> None:
    st.session_state[f"{key}_generation"] = st.session_state.get(f"{key}_generation", 0) + 1


def _reading_options(key: str, with_preset: bool) -> dict:
    columns = st.columns(4 if with_preset else 2)
    values = {}
    if with_preset:
        values["preset"] = columns[0].selectbox(
            "Platform",
            ["auto", *PRESETS],
            format_func=lambda p: "Recognise from the headers" if p == "auto" else PRESETS[p].label,
            key=f"{key}_preset",
        )
        values["channel"] = (
            columns[3].text_input(
                "Channel for every row",
                key=f"{key}_channel",
                help="For a one-platform export without a channel column, e.g. WeChat.",
            )
            or None
        )
    decimal = columns[-3 if with_preset else 0].selectbox(
        "Decimal mark", list(DECIMALS), format_func=DECIMALS.get, key=f"{key}_decimal"
    )
    order = columns[-2 if with_preset else 1].selectbox(
        "Dates", list(DATE_ORDERS), format_func=DATE_ORDERS.get, key=f"{key}_dates"
    )
    values["decimal"] = None if decimal == "detect" else decimal
    values["date_order"] = None if order == "detect" else order
    return values


def _mapping_overrides(key: str, fields) -> dict[str, str]:
    out = {}
    for name in fields:
        chosen = st.session_state.get(f"{key}_map_{name}")
        if chosen is not None:
            out[name] = str(chosen + 1)
    return out


def _mapping_editor(key: str, columns, fields, required) -> None:
    with st.expander("Columns: which column holds what", expanded=bool(columns.missing(required))):
        headers = list(columns.headers)
        picks = st.columns(4)
        for i, name in enumerate(fields):
            label = name.replace("utm_", "UTM ").replace("_", " ")
            current = columns.columns.get(name)
            picks[i % 4].selectbox(
                label[0].upper() + label[1:] + ("" if name in required else " (optional)"),
                list(range(len(headers))),
                index=current,
                format_func=lambda c, h=headers: h[c] or f"column {c + 1}",
                placeholder="Choose a column",
                key=f"{key}_map_{name}",
            )


def _problems_table(problems: list[RowProblem]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Row": [p.row or "" for p in problems],
            "Column": [p.column for p in problems],
            "Problem": [p.message for p in problems],
        }
    )


def _show_reading(reading) -> None:
    st.caption(
        f"{md(reading.file_name)}: {md(reading.format_label)} · header on row "
        f"{reading.header_row}"
        + (f" · {md(reading.decimal_reason)}" if getattr(reading, "decimal_reason", "") else "")
    )
    if reading.errors:
        st.error(
            f"{len(reading.errors)} problems. Nothing is written until they are fixed in the "
            "file (or by choosing the right columns and formats above)."
        )
        st.dataframe(_problems_table(list(reading.errors)), hide_index=True)
    if reading.warnings:
        n = len(reading.warnings)
        st.warning(f"{n} {'note' if n == 1 else 'notes'} to check (these rows are imported):")
        st.dataframe(_problems_table(list(reading.warnings)), hide_index=True)
    if reading.skipped:
        st.caption(
            "Skipped: " + "; ".join(f"row {row} ({md(why)})" for row, why in reading.skipped)
        )


def _numbers(r) -> str:
    return (
        f"{r.impressions:,} / {r.clicks:,} / {r.conversions:,} / {r.spend:,.2f} / {r.revenue:,.2f}"
    )


def _rows_table(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Row": [r.row for r in rows],
            "Day": [r.day for r in rows],
            "Channel": [r.channel for r in rows],
            "Creative": [r.creative for r in rows],
            "Impressions": [r.impressions for r in rows],
            "Clicks": [r.clicks for r in rows],
            "Conversions": [r.conversions for r in rows],
            "Spend": [r.spend for r in rows],
            "Revenue": [r.revenue for r in rows],
        }
    )


def results_import(trials: TrialStore, trial: Trial) -> None:
    """Upload a daily results export, preview it against stored data, and import it."""
    key = f"results_{trial.id}"
    upload = _uploader(
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
    data = upload.getvalue()
    settings = _reading_options(key, with_preset=True)
    try:
        options = ImportOptions(**settings, mapping=_mapping_overrides(key, DAILY_FIELDS))
        preview = preview_import(trials, trial, data, upload.name, options)
    except UserError as e:
        st.error(md(str(e)))
        return
    reading = preview.reading
    if reading.columns is not None:
        required = [
            f
            for f in DAILY_FIELDS
            if f != "revenue" and not (f == "channel" and settings["channel"])
        ]
        _mapping_editor(key, reading.columns, DAILY_FIELDS, required)
    _show_reading(reading)
    if reading.ask_date_order:
        st.info("Choose the date order above: the file's dates could be read either way.")
    plan = preview.plan
    if plan is None:
        return
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
    changed = plan.of("changed")
    replace = False
    if changed:
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
        replace = st.checkbox(f"Replace these {len(changed)} stored rows", key=f"{key}_replace")
    add_arms = False
    if plan.unknown_arms:
        names = ", ".join(f"{c} · {k}" for c, k in plan.unknown_arms)
        st.warning(f"The file names arms this trial does not have: {md(names)}.")
        add_arms = st.checkbox(
            f"Add these {len(plan.unknown_arms)} arms to the trial", key=f"{key}_add_arms"
        )
    something = plan.writes or bool(plan.unknown_arms)
    ready = something and (replace or not changed) and (add_arms or not plan.unknown_arms)
    if st.button(f"Import {plural(len(reading.rows), 'row')}", type="primary", disabled=not ready):
        try:
            outcome = commit_import(trials, trial, preview, replace=replace, add_arms=add_arms)
        except (OverlapError, UserError) as e:
            st.error(md(str(e)))
            return
        _clear_uploader(key)
        flash(outcome_line(outcome).capitalize() + ".")
        st.rerun()


def orders_import(trials: TrialStore, trial: Trial) -> None:
    """Upload the shop's orders, preview, import; then settings, reconciliation, UTM rules."""
    key = f"orders_{trial.id}"
    upload = _uploader(
        "Own orders (CSV, TSV or XLSX)",
        key,
        "One row per order (or per order and touch): order id, date or time, amount, status "
        "(paid, cancelled, refunded) and utm_source / utm_medium / utm_campaign / "
        "utm_content, or channel and creative columns.",
    )
    if upload is not None:
        settings = _reading_options(key, with_preset=False)
        try:
            options = ImportOptions(**settings, mapping=_mapping_overrides(key, ORDER_FIELDS))
            preview = preview_orders(trials, trial, upload.getvalue(), upload.name, options)
        except UserError as e:
            st.error(md(str(e)))
            preview = None
        if preview is not None:
            _mapping_editor(key, preview.reading.columns, ORDER_FIELDS, ORDER_REQUIRED)
            _show_reading(preview.reading)
            if preview.plan is not None:
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
                if st.button("Import orders", type="primary", disabled=not ready):
                    try:
                        outcome = commit_orders(trials, trial, preview, replace=replace)
                    except (OverlapError, UserError) as e:
                        st.error(md(str(e)))
                    else:
                        _clear_uploader(key)
                        flash(outcome_line(outcome, "order rows").capitalize() + ".")
                        st.rerun()
    _order_settings(trials, trial)
    _reconciliation(trials, trial)


_SOURCE_WORDS = {"channel": "channel reports", "orders": "own orders"}


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


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0%}"


def _reconciliation(trials: TrialStore, trial: Trial) -> None:
    result = reconcile(trials, trial)
    st.info(md(result.summary.sentence))
    if not result.has_orders:
        return
    st.subheader("Channel reports vs own orders")
    st.caption("A positive difference means the channel reports more than the shop received.")
    st.dataframe(
        pd.DataFrame(
            {
                "Arm": [a.arm for a in result.arms],
                "Conversions (channel)": [a.channel_conversions for a in result.arms],
                "Conversions (orders)": [a.order_conversions for a in result.arms],
                "Difference": [
                    f"{a.conversions_difference:+d} ({_pct(a.conversions_difference_pct)})"
                    for a in result.arms
                ],
                "Revenue (channel)": [a.channel_revenue for a in result.arms],
                "Revenue (orders)": [a.order_revenue for a in result.arms],
                "Revenue difference": [
                    f"{a.revenue_difference:+,.2f} ({_pct(a.revenue_difference_pct)})"
                    for a in result.arms
                ],
            }
        ),
        hide_index=True,
    )
    a = result.attribution
    notes = [
        f"{status}: {plural(n, 'order')}, {money(v, trial.spec.currency)}"
        for status, (n, v) in a.excluded.items()
    ]
    if notes:
        st.caption("Left out as " + "; ".join(md(n) for n in notes) + ".")
    if a.outside_dates[0]:
        st.caption(f"{plural(a.outside_dates[0], 'order')} outside the trial's dates, not counted.")
    if a.shared:
        names = {arm.id: arm.name for arm in trial.arms}
        with st.expander(
            f"{plural(len(a.shared), 'order')} claimed by more than one arm (counted once each)"
        ):
            st.dataframe(
                pd.DataFrame(
                    {
                        "Order": [s.order_id for s in a.shared],
                        "Claimed by": [", ".join(names[i] for i in s.arms) for s in a.shared],
                        "Credited to": [
                            ", ".join(f"{names[i]} ({w:.0%})" for i, w in s.credited)
                            for s in a.shared
                        ],
                    }
                ),
                hide_index=True,
            )
    _utm_rules(trials, trial, result)


def _utm_rules(trials: TrialStore, trial: Trial, result) -> None:
    unmatched = result.attribution.unattributed
    if not unmatched:
        return
    st.warning(
        f"{plural(sum(n for _, n, _ in unmatched), 'paid order')} matched no arm. Send "
        "their UTM values to an arm (saved for this trial), or leave them out of the trial."
    )
    arms = {a.name: a.id for a in trial.arms}
    frame = pd.DataFrame(
        {
            "utm_source": [u[0] for u, _, _ in unmatched],
            "utm_medium": [u[1] for u, _, _ in unmatched],
            "utm_campaign": [u[2] for u, _, _ in unmatched],
            "utm_content": [u[3] for u, _, _ in unmatched],
            "Orders": [n for _, n, _ in unmatched],
            "Amount": [v for _, _, v in unmatched],
            "Arm": [None] * len(unmatched),
        }
    )
    edited = st.data_editor(
        frame,
        hide_index=True,
        disabled=["utm_source", "utm_medium", "utm_campaign", "utm_content", "Orders", "Amount"],
        column_config={"Arm": st.column_config.SelectboxColumn(options=list(arms))},
        key=f"utm_{trial.id}",
    )
    chosen = edited[edited["Arm"].notna()]
    if st.button("Save UTM rules", disabled=chosen.empty):
        rules = [
            UtmRule(r.utm_source, r.utm_medium, r.utm_campaign, r.utm_content, arms[r.Arm])
            for r in chosen.itertuples()
        ]
        trials.save_utm_rules(trial.id, rules)
        flash(f"Saved {len(rules)} UTM rules.")
        st.rerun()


def daily_grid(trials: TrialStore, trial: Trial) -> None:
    """The stored daily rows in an editable grid, saved as one checked, undoable edit."""
    names = {a.id: a.name for a in trial.arms}
    stored = trials.daily_results(trial.id)
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
    st.caption(
        "Add, change or delete rows, then save. Rows are checked as an import is; the save is "
        "one import you can undo."
    )
    edited = st.data_editor(
        frame,
        num_rows="dynamic",
        hide_index=True,
        column_config={
            "Arm": st.column_config.SelectboxColumn(options=list(names.values()), required=True),
            "Day": st.column_config.DateColumn(
                min_value=trial.spec.start, max_value=trial.spec.end, required=True
            ),
            "Impressions": st.column_config.NumberColumn(min_value=0, step=1, required=True),
            "Clicks": st.column_config.NumberColumn(min_value=0, step=1, required=True),
            "Conversions": st.column_config.NumberColumn(min_value=0, step=1, required=True),
            "Spend": st.column_config.NumberColumn(min_value=0.0, format="%.2f", required=True),
            "Revenue": st.column_config.NumberColumn(min_value=0.0, format="%.2f", required=True),
        },
        key=f"grid_{trial.id}",
    )
    if not st.button("Save changes", key=f"grid_save_{trial.id}"):
        return
    try:
        outcome = save_grid(trials, trial, edited)
    except GridProblems as e:
        st.error(f"{len(e.problems)} problems; nothing was saved.")
        st.dataframe(_problems_table(e.problems), hide_index=True)
        return
    except UserError as e:
        st.error(md(str(e)))
        return
    flash(outcome_line(outcome).capitalize() + "." if outcome.batch else "Nothing changed.")
    st.rerun()


class GridProblems(UserError):
    def __init__(self, problems: list[RowProblem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def save_grid(trials: TrialStore, trial: Trial, edited: pd.DataFrame):
    """Check the grid through the import reader and save it as one manual batch."""
    by_name = {a.name: a for a in trial.arms}
    table = pd.DataFrame(
        {
            "date": [d.isoformat() if isinstance(d, date) else d for d in edited["Day"]],
            "channel": [by_name[n].spec.channel if n in by_name else "" for n in edited["Arm"]],
            "creative": [by_name[n].spec.creative if n in by_name else "" for n in edited["Arm"]],
            "impressions": edited["Impressions"],
            "clicks": edited["Clicks"],
            "conversions": edited["Conversions"],
            "spend": edited["Spend"],
            "revenue": edited["Revenue"],
        }
    )
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    reading = read_daily_file(
        buffer.getvalue().encode(), "grid", trial, ImportOptions(preset="generic", decimal=".")
    )
    if reading.errors:
        # CSV line n is grid row n - 1 (the header is line 1).
        raise GridProblems(
            [
                RowProblem("the grid", max(p.row - 1, 0), p.column.capitalize(), p.message)
                for p in reading.errors
            ]
        )
    kept = {(by_name[r.arm_name].id, r.day) for r in reading.rows if r.arm_name in by_name}
    removals = [
        (r.arm_id, r.day) for r in trials.daily_results(trial.id) if (r.arm_id, r.day) not in kept
    ]
    return trials.commit_results(
        trial.id, reading.rows, kind="manual", replace=True, removals=removals
    )


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
    if not live:
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
