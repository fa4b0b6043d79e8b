"""The Results page's "By segment and week": spend, revenue, ROAS, CPA and CVR per arm ×
segment or per arm × ISO week, each pooled toward its arm (``trials.analysis.segments``,
the closed-form path: instant)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from trials.analysis.segments import grouped_results
from trials.domain import Trial
from trials.storage.store import TrialStore
from ui.text import md, money, percent

__all__ = ["show_segments"]

_BY = {"segment": "Segment", "week": "Week (Monday to Sunday)"}


def show_segments(trials: TrialStore, trial: Trial) -> None:
    st.subheader("By segment and week")
    by = st.radio(
        "Read per",
        list(_BY),
        format_func=_BY.get,
        horizontal=True,
        key=f"segments_by_{trial.id}",
    )
    result = grouped_results(trials, trial, by=by)
    if result.units:
        st.dataframe(_frame(result), hide_index=True)
    width = f"{result.hdi_prob:.0%}"
    st.caption(
        f"Money in {md(result.currency)}; brackets hold the {width} interval. "
        + " ".join(md(n[0].upper() + n[1:] + ".") for n in result.notes)
    )


def _frame(result) -> pd.DataFrame:
    cur = result.currency

    def shown(interval, fmt) -> str:
        if not interval.defined:
            return interval.reason or "–"
        return f"{fmt(interval.mean)} [{fmt(interval.low)} – {fmt(interval.high)}]"

    def ratio(x: float) -> str:
        return f"{x:,.2f}"

    return pd.DataFrame(
        [
            {
                "Arm": u.arm,
                _BY[result.by].split(" ")[0]: u.label,
                "Days": u.days,
                f"Spend ({cur})": money(u.spend),
                f"Revenue ({cur})": money(u.revenue),
                "ROAS": shown(u.metrics["roas"], ratio),
                f"CPA ({cur})": shown(u.metrics["cpa"], money),
                "CVR": shown(u.metrics["cvr"], lambda x: percent(x, 2)),
            }
            for u in result.units
        ]
    )
