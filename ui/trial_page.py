"""The Trial page's parts: the header and headline figures, the verdict, the amendments
to the pre-registered rule, the arms' raw totals and the daily data with its provenance.
Editing and managing the trial are in ``ui.trial_manage``."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from trials.domain import Trial, TrialSummary
from trials.domain.amendments import amendment_lines
from trials.storage.store import TrialStore
from ui.fits import analysis_for, fit_with_progress
from ui.import_history import batches_table
from ui.results import show_verdict
from ui.session import show_flash
from ui.text import md, money, percent

__all__ = ["arms_table", "daily_data", "show_amendments", "show_header", "trial_verdict"]

MEASURES = ["Spend", "Impressions", "Clicks", "Conversions", "Revenue"]


def show_header(summary: TrialSummary) -> None:
    """The trial's name, status line, flash message, hypothesis and headline figures."""
    trial = summary.trial
    spec = trial.spec
    st.title(md(trial.name))
    st.caption(
        f"{spec.status.value.capitalize()}{' · demo' if spec.is_demo else ''} · "
        f"decided on {spec.primary_metric.label} · {spec.start} → {spec.end} · "
        f"registered by {md(trial.created_by)}"
    )
    show_flash()
    if spec.hypothesis:
        st.markdown(f"**Hypothesis:** {md(spec.hypothesis)}")
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric(f"Spend so far ({spec.currency})", money(summary.spend))
    c2.metric(
        "Budget used",
        percent(summary.budget_used, 0),
        help=f"Of the budget cap, {money(spec.budget, spec.currency)}.",
    )
    c3.metric("Days with data", summary.days_with_data)
    last = summary.last_data_date
    # "28 Nov 2026" fits the metric's width; the ISO date was cut to "2026-11…".
    c4.metric("Last data", f"{last.day} {last:%b %Y}" if last else "none yet")
    c5.metric("Break-even ROAS", f"{spec.break_even_roas:.2f}")


def trial_verdict(trials: TrialStore, summary: TrialSummary) -> dict:
    """The verdict box once the trial has data; returns the per-arm totals the arm table
    shows: the analysis's (what the rule counts) or, without one, the stored totals."""
    trial = summary.trial
    totals = trials.arm_totals(trial.id)
    if not summary.days_with_data:
        return totals
    # The verdict, the source and the totals the rule counts: the same analysis the
    # Results and Recommendations pages show.
    outcome = fit_with_progress(trial, "Fitting the model for the verdict")
    if outcome.error:
        st.error(f"The model could not be fitted: {md(outcome.error)}")
        return totals
    analysis = analysis_for(trial, outcome.posterior)
    show_verdict(analysis)
    return analysis.totals


def show_amendments(trials: TrialStore, trial: Trial) -> list:
    """The recorded changes to the pre-registered rule, if any; returns them."""
    amendments = trials.amendments(trial.id)
    if amendments:
        st.subheader("Amendments to the pre-registered rule")
        st.caption(
            f"The plan registered before the data came in was changed {len(amendments)} "
            f"time(s); the decision rule in force is version {trial.rule_version}. Each change "
            "is recorded with who made it, when, the values before and after, and why."
        )
        for line in amendment_lines(amendments):
            st.markdown(f"- {md(line)}")
    return amendments


def arms_table(summary: TrialSummary, totals: dict) -> None:
    """Raw totals and rates per arm, with planned and actual spend shares."""
    pct = st.column_config.NumberColumn(format="percent")
    localized = st.column_config.NumberColumn(format="localized")
    st.dataframe(
        pd.DataFrame(_arm_rows(summary, totals)),
        hide_index=True,
        placeholder="–",
        column_config={
            "Planned share": pct,
            "Spend share": pct,
            "CTR": pct,
            "Impressions": localized,
            "Clicks": localized,
            "CVR": pct,
            "Spend": localized,
            "Revenue": localized,
            "ROAS": st.column_config.NumberColumn(format="%.2f"),
            "CPA": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    st.caption(
        "Raw totals and rates as reported, before any modelling: with a few dozen "
        "conversions per arm, raw rates swing a lot from noise alone."
    )


def _arm_rows(summary: TrialSummary, totals: dict) -> list[dict]:
    trial, spent = summary.trial, summary.spend
    rows = []
    for arm, share in zip(trial.arms, trial.spec.planned_shares(), strict=True):
        t = totals[arm.id]
        rows.append(
            {
                "Channel": arm.spec.channel,
                "Creative": arm.spec.creative,
                "Control": arm.spec.control,
                "Planned share": share,
                "Spend share": t.spend / spent if spent else None,
                "Impressions": t.impressions,
                "Clicks": t.clicks,
                "Conversions": t.conversions,
                "Spend": t.spend,
                "Revenue": t.revenue,
                "CTR": t.clicks / t.impressions if t.impressions else None,
                "CVR": t.conversions / t.clicks if t.clicks else None,
                "ROAS": t.revenue / t.spend if t.spend else None,
                "CPA": t.spend / t.conversions if t.conversions else None,
                "Days": t.days,
            }
        )
    return rows


def daily_data(trials: TrialStore, trial: Trial) -> None:
    """A chart per arm of one daily measure, the rows behind it and where they came from."""
    st.page_link(
        "app_pages/data.py",
        label="Import, edit or undo data",
        icon=":material/upload_file:",
        query_params={"trial": str(trial.id)},
    )
    daily = trials.daily_results(trial.id)
    if not daily:
        st.info("No daily results yet.")
        return
    frame = _daily_frame(trial, daily)
    measure = (
        st.segmented_control("Show", MEASURES, default="Conversions", key="daily_measure")
        or "Conversions"
    )
    st.altair_chart(_daily_chart(frame, measure), width="stretch")
    with st.expander(f"All {len(frame)} daily rows"):
        st.dataframe(frame, hide_index=True)
    batches = trials.import_batches(trial.id)
    st.caption("Where the data came from")
    st.dataframe(batches_table(batches), hide_index=True)


def _daily_frame(trial: Trial, daily) -> pd.DataFrame:
    names = {a.id: a.name for a in trial.all_arms}
    return pd.DataFrame(
        {
            "Day": [r.day for r in daily],
            "Arm": [names[r.arm_id] for r in daily],
            "Impressions": [r.impressions for r in daily],
            "Clicks": [r.clicks for r in daily],
            "Conversions": [r.conversions for r in daily],
            "Spend": [r.spend for r in daily],
            "Revenue": [r.revenue for r in daily],
        }
    )


def _daily_chart(frame: pd.DataFrame, measure: str) -> alt.Chart:
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("Day:T", title=None),
            y=alt.Y(f"{measure}:Q"),
            color=alt.Color(
                "Arm:N",
                legend=alt.Legend(orient="bottom", title=None, labelLimit=400, columns=2),
            ),
            tooltip=["Day:T", "Arm:N", f"{measure}:Q"],
        )
        .properties(height=280)
    )
