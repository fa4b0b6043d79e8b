"""The Recommendations page's parts: per-arm recommendations, the budget split with its
inputs, and the response curves with today's spend and break-even marked."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from trials.decisions import TrialDecision
from trials.domain import Trial
from ui.fits import decision_for
from ui.text import md, money

__all__ = ["show_allocation", "show_curves", "show_recommendations"]

LABELS = {
    "scale": "Scale",
    "keep_testing": "Keep testing",
    "stop": "Stop",
    "fix_creative": "Fix the creative",
    "fix_landing": "Fix the landing page",
}


def show_recommendations(trial: Trial, decision: TrialDecision) -> None:
    for d in decision.arms:
        with st.container(border=True):
            st.markdown(f"**{md(d.name)}** — {LABELS[d.recommendation]}")
            st.markdown(md(d.reason))
            failed = [g.message for g in d.gates if not g.passed]
            if failed:
                st.caption("Check: " + "; ".join(md(m) for m in failed))
    failed = [g.message for g in decision.gates if not g.passed]
    if failed:
        st.warning("Before any scale: " + "; ".join(md(m) for m in failed))


def show_allocation(trial: Trial, posterior, spent: float) -> None:
    cur = trial.spec.currency
    with st.form(f"allocation_{trial.id}", border=False):
        c1, c2, c3, c4 = st.columns(4)
        budget = c1.number_input(
            f"Next round's budget ({cur})",
            min_value=1.0,
            value=float(max(round(spent or trial.spec.budget or 1000.0), 1)),
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
    try:
        decision = decision_for(
            trial, posterior, budget=budget, low=low, high=high or None, risk=risk
        )
    except ValueError as e:
        st.error(str(e))
        return
    a = decision.allocation
    if a is None:
        st.info("No arm has a ROAS estimate yet (no spend or no revenue).")
        return
    names = {arm.id: arm.name for arm in trial.arms}
    frame = pd.DataFrame(
        {
            "Arm": [names[i] for i in decision.allocated_arms],
            "Proposed": a.budgets,
            "Today's split": a.current_budgets,
            "Expected revenue": a.expected_revenue,
        }
    )
    c1, c2, c3 = st.columns(3)
    c1.metric(
        f"Expected revenue ({cur})",
        money(a.total_expected_revenue),
        delta=f"{a.total_expected_revenue - a.current_expected_revenue:+,.0f} vs today's split",
    )
    c2.metric(f"Expected profit ({cur})", money(a.expected_profit))
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
        .properties(height=60 + 50 * len(frame)),
        width="stretch",
    )
    st.caption(
        "The split maximises expected profit (revenue ÷ break-even − spend) minus the caution "
        "setting times the mean loss of the worst 10% of outcomes. Returns are taken as "
        "proportional to spend; see the curves below for where that stops holding."
    )


def show_curves(trial: Trial, curves: dict) -> None:
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
            "Marginal ROAS: revenue from the next unit of daily spend (band: 94% interval). "
            "Dotted: today's daily spend; dashed red: break-even."
        )
