"""Drawing a trial's posterior: headline, funnel per arm with its weakest stage, interval
charts with break-even, posterior distributions, raw vs modelled, and diagnostics."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from trials.analysis.history import TrialHistory, trial_history
from trials.analysis.preview import PREVIEW_NOTE
from trials.analysis.result import TrialAnalysis
from trials.domain import PrimaryMetric, Trial
from trials.domain.amendments import amendment_lines
from trials.domain.verdicts import VERDICT_LABELS, raw_estimate
from ui.text import md, money, percent

__all__ = ["report_downloads", "show_history", "show_results", "show_verdict"]

STAGES = (
    ("ctr", "Click-through (clicks per impression)"),
    ("cvr", "Conversion (conversions per click)"),
    ("revenue_per_conversion", "Order value (revenue per conversion)"),
)
SHOWN = {"roas": "ROAS", "cvr": "Conversion rate", "cpa": "CPA"}
VERDICT_BOX = {"scale": st.success, "equal": st.info, "stop_all": st.error}
PREVIEW_LABEL = "Preview — not the verdict"


def show_verdict(analysis: TrialAnalysis) -> None:
    """The trial's verdict, the data source and the rule it was judged by: the same box on
    the Trial, Results and Recommendations pages."""
    d = analysis.decision
    box = VERDICT_BOX.get(d.verdict, st.warning)
    box(f"**{VERDICT_LABELS[d.verdict]}.** {md(d.reason)}")
    rule = d.rule
    version = analysis.trial.rule_version
    st.caption(
        md(analysis.data.summary.sentence)
        + f" Judged by the pre-registered rule{f' (version {version})' if version > 1 else ''}: "
        f"at least {rule.min_days} days and {rule.min_conversions_per_arm} conversions per arm, "
        f"a winner at {rule.probability_threshold:.0%} to be best (guarded over "
        f"{len(analysis.trial.arms)} arms and early looks), an expected loss under "
        f"{rule.expected_loss_threshold:.1%}, equal within ±{rule.equivalence_margin:.0%}."
    )
    if analysis.data.amendments:
        st.caption(
            "The rule was amended after data came in: "
            + "; ".join(md(line) for line in amendment_lines(analysis.data.amendments))
        )


def _headline(analysis: TrialAnalysis) -> None:
    totals, trial, decision = analysis.totals, analysis.trial, analysis.decision
    spend = sum(t.spend for t in totals.values())
    revenue = sum(t.revenue for t in totals.values())
    cur = trial.spec.currency
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(f"Spend ({cur})", money(spend))
    c2.metric(f"Revenue ({cur})", money(revenue))
    c3.metric("ROAS so far", f"{revenue / spend:.2f}" if spend else "–")
    leader = next((d for d in decision.arms if d.arm_id == decision.leader), None)
    if leader and leader.comparison:
        c4.metric(
            "Leading arm" + (" (preview)" if decision.verdict == "preview" else ""),
            f"{leader.comparison.p_best:.0%}",
            help=f"{md(leader.name)}: probability to be the best arm on the primary metric.",
        )
        st.caption(f"Leading: **{md(leader.name)}**, {leader.comparison.p_best:.0%} to be best.")
    else:
        c4.metric("Leading arm", "–")


def _funnel(analysis: TrialAnalysis) -> None:
    trial, posterior, totals = analysis.trial, analysis.posterior, analysis.totals
    width = f"{posterior.spec.hdi_prob:.0%} HDI"
    weakest = {i: d.weak_stage for i, d in enumerate(analysis.decision.arms) if d.weak_stage}
    cur = trial.spec.currency

    def shown(stage: str, value: float) -> str:
        """Rates as percentages, order values as money: as a marketer reads them."""
        return money(value, cur) if stage == "revenue_per_conversion" else percent(value, 2)

    rows = []
    for i, arm in enumerate(trial.arms):
        t = totals[arm.id]
        for stage, (count_from, count_to, label) in {
            "ctr": ("impressions", "clicks", "Impressions → clicks"),
            "cvr": ("clicks", "conversions", "Clicks → conversions"),
            "revenue_per_conversion": ("conversions", "revenue", "Conversions → revenue"),
        }.items():
            interval = posterior.interval(stage, i)
            weak = weakest.get(i)
            mark = weak is not None and weak.stage == stage
            rows.append(
                {
                    "Arm": arm.name,
                    "Stage": label,
                    "Weakest stage": "◀ weakest" if mark else "",
                    "From": getattr(t, count_from),
                    "To": getattr(t, count_to),
                    **{
                        column: shown(stage, value)
                        for column, value in (
                            ("Posterior mean", interval.mean),
                            (f"{width} low", interval.low),
                            (f"{width} high", interval.high),
                        )
                    },
                }
            )
    frame = pd.DataFrame(rows)
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "From": st.column_config.NumberColumn(format="localized"),
            "To": st.column_config.NumberColumn(format="localized"),
        },
    )
    notes = []
    for i, weak in weakest.items():
        if weak.ratio < 0.95:
            notes.append(
                f"{trial.arms[i].name}: {weak.label} is {weak.ratio:.0%} of "
                f"{trial.arms[weak.reference].name}'s ({weak.p_below:.0%} chance it is below)"
            )
    if notes:
        st.caption("Weakest stage per arm: " + "; ".join(md(n) for n in notes) + ".")


def _interval_chart(trial: Trial, posterior, metric: str) -> alt.Chart | None:
    rows = []
    for i, arm in enumerate(trial.arms):
        interval = posterior.interval(metric, i)
        if interval.defined:
            rows.append(
                {"Arm": arm.name, "mean": interval.mean, "low": interval.low, "high": interval.high}
            )
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    title = SHOWN[metric] + (" (%)" if metric == "cvr" else "")
    scale = 100 if metric == "cvr" else 1
    frame[["mean", "low", "high"]] *= scale
    base = alt.Chart(frame).encode(
        y=alt.Y("Arm:N", title=None, sort=None, axis=alt.Axis(labelLimit=400))
    )
    chart = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", title=title, scale=alt.Scale(zero=False)), x2="high:Q"
    ) + base.mark_point(filled=True, size=80).encode(
        x="mean:Q", tooltip=["Arm:N", alt.Tooltip("mean:Q", format=".3g")]
    )
    if metric == "roas":
        line = pd.DataFrame({"break_even": [trial.spec.break_even_roas]})
        chart += (
            alt.Chart(line).mark_rule(color="#d62728", strokeDash=[6, 4]).encode(x="break_even:Q")
        )
    return chart.properties(height=50 + 40 * len(rows))


def _intervals(trial: Trial, posterior) -> None:
    for metric in ("roas", "cvr", "cpa"):
        chart = _interval_chart(trial, posterior, metric)
        if chart is None:
            st.caption(f"{SHOWN[metric]}: no arm has the data for it yet.")
            continue
        st.altair_chart(chart, width="stretch")
    st.caption(
        f"Dots are posterior means, bars {posterior.spec.hdi_prob:.0%} highest-density "
        "intervals. The dashed line is "
        f"break-even ROAS {trial.spec.break_even_roas:g}."
    )


def _distributions(trial: Trial, posterior, metric: str) -> None:
    draws = posterior.draws[metric]
    rng = np.random.default_rng(0)
    take = rng.choice(draws.shape[0], min(2000, draws.shape[0]), replace=False)
    frames = []
    for i, arm in enumerate(trial.arms):
        column = draws[take, i]
        if np.isfinite(column).all():
            frames.append(pd.DataFrame({"Arm": arm.name, "value": column}))
    if not frames:
        return
    chart = (
        alt.Chart(pd.concat(frames))
        .transform_density("value", groupby=["Arm"], as_=["value", "density"])
        .mark_area(opacity=0.45)
        .encode(
            x=alt.X("value:Q", title=SHOWN.get(metric, metric)),
            y=alt.Y("density:Q", title=None, axis=None),
            color=alt.Color("Arm:N", legend=alt.Legend(orient="bottom", title=None)),
        )
        .properties(height=220)
    )
    st.altair_chart(chart, width="stretch")


def _raw_vs_model(analysis: TrialAnalysis) -> None:
    trial, posterior, totals = analysis.trial, analysis.posterior, analysis.totals
    metric = trial.spec.primary_metric
    name = {PrimaryMetric.ROAS: "roas", PrimaryMetric.CPA: "cpa"}.get(metric, "cvr")
    cur = trial.spec.currency

    def fmt(value: float | None) -> str:
        if value is None:
            return "–"
        if metric is PrimaryMetric.CONVERSION_RATE:
            return percent(value, 2)
        return money(value, cur) if metric is PrimaryMetric.CPA else f"{value:.2f}"

    rows = []
    for i, arm in enumerate(trial.arms):
        interval = posterior.interval(name, i)
        raw = raw_estimate(metric, totals[arm.id])
        profit = analysis.decision.arms[i].p_roas_above_break_even
        rows.append(
            {
                "Arm": arm.name,
                "Raw (from totals)": fmt(raw),
                "Modelled (posterior mean)": fmt(interval.mean if interval.defined else None),
                "Conversions": totals[arm.id].conversions,
                f"Chance ROAS > {trial.spec.break_even_roas:g}": percent(profit, 0),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, placeholder="–")
    st.caption(md(analysis.raw_vs_model))


def _model_notes(analysis: TrialAnalysis) -> None:
    """What the model did with this trial's data and what it could not learn, beside the
    intervals it affects (the notes from ``inference.funnel.derived``)."""
    posterior = analysis.posterior
    lines = [md(note[0].upper() + note[1:]) for note in posterior.notes]
    per_arm: dict[int, str] = {}
    for notes in posterior.metric_notes.values():
        for arm, text in notes.items():
            per_arm.setdefault(arm, text)
    for arm, text in sorted(per_arm.items()):
        lines.append(f"{md(analysis.trial.arms[arm].name)}: {md(text)}")
    for line in lines:
        st.caption(line)


def _diagnostics(posterior) -> None:
    d = posterior.diagnostics
    with st.expander(
        "Diagnostics" + ("" if d.reliable else ": NOT reliable"), expanded=not d.reliable
    ):
        if posterior.method == "exact":
            st.write("Exact conjugate posterior: no sampler, nothing to diagnose.")
        else:
            st.write(
                f"R-hat max {d.r_hat_max:.3f}, bulk ESS min {d.ess_bulk_min:,.0f}, tail ESS "
                f"min {d.ess_tail_min:,.0f}, divergences {d.divergences}, "
                f"{posterior.seconds:.1f} s."
            )
        for reason in d.reasons:
            st.warning(md(reason))


@st.cache_data(max_entries=64, show_spinner=False)
def _history_of(trial_id: int, digest: str, spec_key: str, _data) -> TrialHistory:
    # Keyed by the trial, its data digest and its settings; ``_data`` is not hashed.
    return trial_history(_data)


def show_history(analysis: TrialAnalysis) -> None:
    """Each arm's chance to be best and ROAS on the data up to each day: when the picture
    settled (the exact path, day by day; never a full-model fit per day)."""
    trial = analysis.trial
    h = _history_of(trial.id, analysis.data.digest, repr(trial.spec), analysis.data)
    rows = [
        {
            "Day": p.day.isoformat(),
            "Arm": p.arm,
            "P(best) %": None if p.p_best is None else 100 * p.p_best,
            "ROAS": p.roas_mean,
            "low": p.roas_low,
            "high": p.roas_high,
        }
        for p in h.points
    ]
    if len(h.days) < 2:
        st.caption("Over time: the chart needs data on two days or more.")
        return
    frame = pd.DataFrame(rows)
    legend = alt.Legend(orient="bottom", title=None, labelLimit=400)
    x = alt.X("Day:T", title=None)
    chance = (
        alt.Chart(frame.dropna(subset=["P(best) %"]))
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("P(best) %:Q", scale=alt.Scale(domain=[0, 100]), stack=None),
            color=alt.Color("Arm:N", legend=legend),
            tooltip=["Day:T", "Arm:N", alt.Tooltip("P(best) %:Q", format=".1f")],
        )
        .properties(height=240, title="Chance to be best, on the data up to each day")
    )
    st.altair_chart(chance, width="stretch")
    roas = frame.dropna(subset=["ROAS"])
    if not roas.empty:
        base = alt.Chart(roas).encode(x=x, color=alt.Color("Arm:N", legend=legend))
        band = base.mark_area(opacity=0.18).encode(
            y=alt.Y("low:Q", title="ROAS", stack=None), y2="high:Q"
        )
        line = base.mark_line().encode(
            y=alt.Y("ROAS:Q", stack=None),
            tooltip=["Day:T", "Arm:N", alt.Tooltip("ROAS:Q", format=".2f")],
        )
        st.altair_chart(
            (band + line).properties(height=240, title="ROAS with its 94% interval"),
            width="stretch",
        )
    if h.leader:
        st.caption(
            f"{md(h.leader)} has led on every day since {h.leader_since.isoformat()} "
            f"({percent(h.p_best_mc_error, 1)} Monte Carlo error at most). {md(h.note)}"
        )
    else:
        st.caption(md(h.note))


def show_results(analysis: TrialAnalysis, *, preview: bool = False) -> None:
    """Everything the Results page shows for one analysis. The exact preview is labelled
    as such and shows no verdict and no recommendation (it never drives a decision)."""
    trial, posterior = analysis.trial, analysis.posterior
    preview = preview or analysis.decision.verdict == "preview"
    if not preview:
        show_verdict(analysis)
    else:
        st.warning(f"**{PREVIEW_LABEL}.** {md(PREVIEW_NOTE.split(': ', 1)[1])}")
        st.caption(md(analysis.data.summary.sentence))
    _headline(analysis)
    st.subheader("Funnel per arm")
    _funnel(analysis)
    st.subheader("ROAS, conversion rate and CPA")
    _intervals(trial, posterior)
    _model_notes(analysis)
    st.subheader("Posterior distributions")
    metric = {PrimaryMetric.ROAS: "roas", PrimaryMetric.CPA: "cpa"}.get(
        trial.spec.primary_metric, "cvr"
    )
    _distributions(trial, posterior, metric)
    st.subheader("Raw and modelled")
    _raw_vs_model(analysis)
    st.subheader("Over time")
    show_history(analysis)
    _diagnostics(posterior)


def report_downloads(analysis: TrialAnalysis) -> None:
    """Download buttons for the report in every format, from the analysis on screen."""
    from trials.reports.contract import analysis_dict
    from trials.reports.render import render
    from trials.reports.report import build_report
    from ui.session import store

    trial = analysis.trial
    trials = store()
    report = build_report(trial, analysis_dict(analysis), trials.decisions(trial.id))
    stem = "".join(c if c.isalnum() else "-" for c in trial.name).strip("-")[:60] or "trial"
    columns = st.columns(4)
    for column, (fmt, label, mime) in zip(
        columns,
        (
            ("html", "HTML report", "text/html"),
            (
                "xlsx",
                "Excel (XLSX)",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            ("csv", "CSV", "text/csv"),
            ("md", "Markdown", "text/markdown"),
        ),
        strict=True,
    ):
        column.download_button(
            label,
            data=render(report, fmt),
            file_name=f"{stem}.{fmt}",
            mime=mime,
            key=f"download_{fmt}",
            icon=":material/download:",
        )
