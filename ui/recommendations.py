"""The Recommendations page's parts: per-arm recommendations, the budget split with its
inputs, and the response curves with today's spend and break-even marked."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from trials.analysis.budget import MAX_MULTIPLE, ROUND_DAYS
from trials.analysis.result import TrialAnalysis
from trials.domain import UserError
from trials.domain.verdicts import LABELS, DecisionRecord
from trials.reports.contract import analysis_dict, evidence_snapshot
from ui.access import may_change
from ui.session import flash, store
from ui.text import md, money

__all__ = ["record_decision", "show_allocation", "show_curves", "show_log", "show_recommendations"]


def show_recommendations(analysis: TrialAnalysis) -> None:
    decision = analysis.decision
    for d in decision.arms:
        with st.container(border=True):
            st.markdown(f"**{md(d.name)}** — {LABELS[d.recommendation]}")
            st.markdown(md(d.reason))
            # Gates the reason does not already name (the verdict box above says the rest).
            failed = [g.message for g in d.gates if not g.passed and g.message not in d.reason]
            if failed:
                st.caption("Check: " + "; ".join(md(m) for m in failed))


def show_allocation(analysis: TrialAnalysis, spent: float) -> TrialAnalysis | None:
    """The budget split form and its result; returns the analysis with the split (for the
    reports), or None when there is none."""
    trial = analysis.trial
    budget, low, high, risk = _allocation_form(analysis, spent)
    try:
        split = analysis.with_split(budget, low=low, high=high or None, risk=risk)
    except ValueError as e:
        st.error(md(str(e)))
        return None
    decision = split.decision
    a = decision.allocation
    if a is None:
        st.info("No arm has a ROAS estimate yet (no spend or no revenue).")
        return None
    names = {arm.id: arm.name for arm in trial.arms}
    frame = pd.DataFrame(
        {
            "Arm": [names[i] for i in decision.allocated_arms],
            "Proposed": a.budgets,
            "Today's split": a.current_budgets,
            "Expected revenue": a.expected_revenue,
        }
    ).round(2)  # money: cents, not the optimiser's decimals
    cur = trial.spec.currency
    _allocation_metrics(a, cur)
    _allocation_table(frame, cur)
    for note in decision.allocation_notes:
        st.markdown(f"- {md(note)}")
    st.caption(
        "The split maximises expected profit (revenue ÷ break-even − spend) minus the caution "
        f"setting times the mean loss of the worst 10% of outcomes, over the next "
        f"{ROUND_DAYS} days. No arm gets more than {MAX_MULTIPLE:g}× its spend at today's pace, "
        "arms to stop or fix get nothing, arms still under test keep half their pace, and "
        "money is left unspent where it would likely be lost. Expected revenue and the chance "
        "of a loss allow for returns falling beyond today's pace."
    )
    return split


def _allocation_form(analysis: TrialAnalysis, spent: float) -> tuple[float, float, float, float]:
    """The next round's budget (today's pace by default), the bounds per arm and the
    caution setting."""
    trial = analysis.trial
    cur = trial.spec.currency
    pace = sum(t.spend / t.days * ROUND_DAYS for t in analysis.totals.values() if t.days)
    with st.form(f"allocation_{trial.id}", border=False):
        c1, c2, c3, c4 = st.columns(4)
        budget = c1.number_input(
            f"Next round's budget ({cur})",
            min_value=1.0,
            value=float(max(round(pace or spent or trial.spec.budget or 1000.0), 1)),
            help=f"For the next {ROUND_DAYS} days; the default is today's pace.",
            step=100.0,
        )
        low = c2.number_input(f"At least per arm ({cur})", min_value=0.0, value=0.0, step=50.0)
        high = c3.number_input(
            f"At most per arm ({cur})", min_value=0.0, value=float(budget), step=50.0
        )
        risk = c4.slider(
            "Caution",
            0.0,
            3.0,
            0.5,
            0.25,
            help="Weight on the worst 10% of outcomes: 0 chases the expected profit only.",
        )
        st.form_submit_button("Split the budget")
    return budget, low, high, risk


def _allocation_metrics(a, cur: str) -> None:
    """What the proposed split spends, earns and risks, beside today's split."""
    c1, c2, c3 = st.columns(3)
    c1.metric(
        f"Spends ({cur})",
        money(sum(a.budgets)),
        help=f"Of {money(a.budget, cur)} offered; expected revenue "
        f"{money(a.total_expected_revenue, cur)}.",
    )
    c2.metric(
        f"Expected profit ({cur})",
        money(a.expected_profit),
        delta=f"{a.expected_profit - a.current_expected_profit:+,.0f} vs today's split",
        help="Revenue ÷ break-even − spend: what the round earns after the margin, beside "
        "spending the whole offered budget in today's proportions.",
    )
    c3.metric(
        "Chance the round loses money",
        f"{a.p_loss:.0%}",
        delta=(
            f"{(a.p_loss - a.current_p_loss) * 100:+.0f} points vs today's split"
            if abs(a.p_loss - a.current_p_loss) >= 0.005
            else None
        ),
        delta_color="inverse",
    )


def _allocation_table(frame: pd.DataFrame, cur: str) -> None:
    """The proposed and today's budget per arm, as a table and as paired bars."""
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            c: st.column_config.NumberColumn(format="localized")
            for c in ("Proposed", "Today's split", "Expected revenue")
        },
    )
    long = frame.melt(id_vars="Arm", value_vars=["Today's split", "Proposed"], var_name="Split")
    st.altair_chart(
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("Arm:N", title=None, axis=alt.Axis(labelLimit=400)),
            x=alt.X("value:Q", title=f"Budget ({cur})"),
            yOffset="Split:N",
            color=alt.Color("Split:N", legend=alt.Legend(orient="bottom", title=None)),
        )
        # A step per bar: a fixed height collapses the offset bands (labels overlap).
        .properties(height=alt.Step(22)),
        width="stretch",
    )


def show_curves(analysis: TrialAnalysis) -> None:
    trial, curves = analysis.trial, analysis.curves or {}
    be = trial.spec.break_even_roas
    any_curve = False
    for arm in trial.arms:
        curve = curves.get(arm.id)
        if curve is None:
            continue
        if not curve.marginal_now.defined:
            st.caption(f"{md(arm.name)}: {md(curve.advice)}")
            continue
        any_curve = True
        st.markdown(f"**{md(arm.name)}**: {md(curve.advice)}")
        frame = pd.DataFrame(curve.curve, columns=["spend", "mean", "low", "high"])
        band = (
            alt.Chart(frame)
            .mark_area(opacity=0.25)
            .encode(
                x=alt.X("spend:Q", title=f"Daily spend ({trial.spec.currency})"),
                y=alt.Y("low:Q", title="Marginal ROAS"),
                y2="high:Q",
            )
        )
        line = alt.Chart(frame).mark_line().encode(x="spend:Q", y="mean:Q")
        marks = pd.DataFrame({"spend": [curve.current_spend], "break_even": [be]})
        today = alt.Chart(marks).mark_rule(strokeDash=[4, 4]).encode(x="spend:Q")
        even = (
            alt.Chart(marks).mark_rule(color="#d62728", strokeDash=[6, 4]).encode(y="break_even:Q")
        )
        st.altair_chart((band + line + today + even).properties(height=240), width="stretch")
    if any_curve:
        st.caption(
            "Marginal ROAS: revenue from the next unit of daily spend (band: "
            f"{analysis.posterior.spec.hdi_prob:.0%} interval). "
            "Dotted: today's daily spend; dashed red: break-even."
        )


def record_decision(analysis: TrialAnalysis) -> None:
    """A form that records a decision (pre-filled from the recommendations) and the log."""
    trials = store()
    trial, decision = analysis.trial, analysis.decision
    names = [a.name for a in trial.arms]
    suggested = {d.name: d.recommendation for d in decision.arms}

    def picked(*recommendations: str) -> list[str]:
        return [n for n in names if suggested.get(n) in recommendations]

    log = trials.decisions(trial.id)
    if not may_change(trials, "record decisions"):
        show_log(log)
        return
    with st.form(f"decision_{trial.id}"):
        c1, c2 = st.columns(2)
        scale = c1.multiselect("Scale", names, default=picked("scale"))
        stop = c2.multiselect("Stop", names, default=picked("stop"))
        fix = c1.multiselect("Fix", names, default=picked("fix_creative", "fix_landing"))
        keep = c2.multiselect("Keep testing", names, default=picked("keep_testing", "equal"))
        budget_change = st.text_input("Budget change", placeholder="e.g. WeChat 200 → 300 a day")
        note = st.text_area("Note", placeholder="Why, and what happens next")
        c3, c4 = st.columns(2)
        corrects = c3.selectbox(
            "Corrects an earlier entry",
            [None, *[e.id for e in log]],
            format_func=lambda i: "No, a new decision" if i is None else f"Entry #{i}",
        )
        mark = c4.checkbox("Mark the trial as decided", value=decision.rule_met)
        submitted = st.form_submit_button("Record the decision", type="primary")
    if submitted:
        record = DecisionRecord(
            scale=tuple(scale),
            stop=tuple(stop),
            fix=tuple(fix),
            keep_testing=tuple(keep),
            budget_change=budget_change,
            note=note,
            corrects=corrects,
            mark_decided=mark,
        )
        try:
            entry = trials.record_decision(
                trial.id, record, evidence_snapshot(analysis_dict(analysis))
            )
        except UserError as e:
            st.error(md(str(e)))
        else:
            flash(f"Recorded decision #{entry.id}.")
            st.rerun()
    show_log(trials.decisions(trial.id))


def show_log(log) -> None:
    if not log:
        st.caption("No decisions recorded yet.")
        return
    for e in reversed(log):
        # Expander titles render Markdown: the author is user text, shown literally.
        title = f"#{e.id} · {e.created_at:%Y-%m-%d %H:%M} UTC · {md(e.created_by)}"
        if e.corrects:
            title += f" · corrects #{e.corrects}"
        if e.corrected_by:
            title += " · corrected by " + ", ".join(f"#{i}" for i in e.corrected_by)
        with st.expander(title):
            for action, label in (
                ("scale", "Scale"),
                ("stop", "Stop"),
                ("fix", "Fix"),
                ("keep_testing", "Keep testing"),
            ):
                if e.summary.get(action):
                    st.markdown(f"**{label}:** " + md(", ".join(e.summary[action])))
            if e.summary.get("budget_change"):
                st.markdown("**Budget:** " + md(e.summary["budget_change"]))
            if e.note:
                st.markdown("**Note:** " + md(e.note))
            snap = e.snapshot
            # The snapshot is stored data: shown as text like everything read back.
            st.caption(
                md(
                    f"Evidence: {snap.get('method')} posterior, data digest "
                    f"{str(snap.get('data_digest'))[:12]}, seed {snap.get('seed')}, app "
                    f"{snap.get('app_version')}."
                )
            )
            rows = [
                {
                    "Arm": f"{a['channel']} · {a['creative']}",
                    "P(best)": a.get("p_best"),
                    "Recommendation": LABELS.get(a.get("recommendation"), a.get("recommendation")),
                }
                for a in snap.get("arms", [])
            ]
            if rows:
                st.dataframe(pd.DataFrame(rows), hide_index=True, placeholder="–")
