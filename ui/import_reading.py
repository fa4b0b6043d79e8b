"""What every upload on the Data page shares: the file picker, the reading options
(platform, decimal mark, date order), the column mapping, and the list of what the reader
found (problems, notes, skipped rows)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from trials.ingest.columns import PRESETS
from trials.ingest.reading import RowProblem
from ui.text import md

__all__ = [
    "clear_uploader",
    "mapping_editor",
    "mapping_overrides",
    "problems_table",
    "reading_options",
    "show_reading",
    "uploader",
]

FILE_TYPES = ["csv", "tsv", "txt", "xlsx"]
DECIMALS = {"detect": "Detect from the file", ".": "Point (1,234.56)", ",": "Comma (1.234,56)"}
DATE_ORDERS = {
    "detect": "Detect from the file",
    "dmy": "Day first (31/12/2026)",
    "mdy": "Month first (12/31/2026)",
}


def uploader(label: str, key: str, help_text: str):
    # A new key after each import empties the uploader for the next file.
    generation = st.session_state.get(f"{key}_generation", 0)
    return st.file_uploader(label, type=FILE_TYPES, key=f"{key}_{generation}", help=help_text)


def clear_uploader(key: str) -> None:
    st.session_state[f"{key}_generation"] = st.session_state.get(f"{key}_generation", 0) + 1


def reading_options(key: str, with_preset: bool) -> dict:
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


def mapping_overrides(key: str, fields) -> dict[str, str]:
    out = {}
    for name in fields:
        chosen = st.session_state.get(f"{key}_map_{name}")
        if chosen is not None:
            out[name] = str(chosen + 1)
    return out


def mapping_editor(key: str, columns, fields, required) -> None:
    unsettled = bool(columns.missing(required) or columns.ambiguous)
    with st.expander("Columns: which column holds what", expanded=unsettled):
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


def problems_table(problems: list[RowProblem]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Row": [p.row or "" for p in problems],
            "Column": [p.column for p in problems],
            "Problem": [p.message for p in problems],
        }
    )


def show_reading(reading) -> None:
    st.caption(
        f"{md(reading.file_name)}: {md(reading.format_label)} · header on row "
        f"{reading.header_row}"
        + (f" · {md(reading.decimal_reason)}" if getattr(reading, "decimal_reason", "") else "")
    )
    if reading.ask_decimal:
        st.info(
            "Choose the decimal mark above: a number in the file could be read either way "
            "(the problem below names it)."
        )
    if reading.ask_date_order:
        st.info("Choose the date order above: the file's dates could be read either way.")
    if reading.errors:
        st.error(
            f"{len(reading.errors)} problems. Nothing is written until they are fixed in the "
            "file (or by choosing the right columns and formats above)."
        )
        st.dataframe(problems_table(list(reading.errors)), hide_index=True)
    if reading.warnings:
        n = len(reading.warnings)
        st.warning(f"{n} {'note' if n == 1 else 'notes'} to check (these rows are imported):")
        st.dataframe(problems_table(list(reading.warnings)), hide_index=True)
    if reading.skipped:
        st.caption(
            "Skipped: " + "; ".join(f"row {row} ({md(why)})" for row, why in reading.skipped)
        )
