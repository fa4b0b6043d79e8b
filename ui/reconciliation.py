"""Channel reports against the shop's own orders, per arm: the differences, the orders
left out or shared, and the UTM rules that send unmatched orders to an arm."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from trials.analysis.sources import reconcile
from trials.domain import Trial, UserError
from trials.domain.imports import UtmRule
from trials.storage.store import TrialStore
from ui.session import flash
from ui.text import md, money, plural

__all__ = ["show_reconciliation"]


def show_reconciliation(trials: TrialStore, trial: Trial) -> None:
    result = reconcile(trials, trial)
    st.info(md(result.summary.sentence))
    if not result.has_orders:
        return
    st.subheader("Channel reports vs own orders")
    st.caption("A positive difference means the channel reports more than the shop received.")
    st.dataframe(_differences_table(result), hide_index=True)
    _left_out(result.attribution, trial)
    _shared_orders(result.attribution, trial)
    _utm_rules(trials, trial, result)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0%}"


def _differences_table(result) -> pd.DataFrame:
    return pd.DataFrame(
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
    )


def _left_out(attribution, trial: Trial) -> None:
    """Orders not counted: cancelled, refunded, or outside the trial's dates."""
    notes = [
        f"{status}: {plural(n, 'order')}, {money(v, trial.spec.currency)}"
        for status, (n, v) in attribution.excluded.items()
    ]
    if notes:
        st.caption("Left out as " + "; ".join(md(n) for n in notes) + ".")
    if attribution.outside_dates[0]:
        st.caption(
            f"{plural(attribution.outside_dates[0], 'order')} outside the trial's dates, "
            "not counted."
        )


def _shared_orders(attribution, trial: Trial) -> None:
    """Orders more than one arm claims, and how each was credited."""
    if not attribution.shared:
        return
    shared = attribution.shared
    names = {arm.id: arm.name for arm in trial.all_arms}
    with st.expander(
        f"{plural(len(shared), 'order')} claimed by more than one arm (counted once each)"
    ):
        st.dataframe(
            pd.DataFrame(
                {
                    "Order": [s.order_id for s in shared],
                    "Claimed by": [", ".join(names[i] for i in s.arms) for s in shared],
                    "Credited to": [
                        ", ".join(f"{names[i]} ({w:.0%})" for i, w in s.credited) for s in shared
                    ],
                }
            ),
            hide_index=True,
        )


def _utm_rules(trials: TrialStore, trial: Trial, result) -> None:
    unmatched = result.attribution.unattributed
    if not unmatched or not trials.can_write:
        return
    st.warning(
        f"{plural(sum(n for _, n, _ in unmatched), 'paid order')} matched no arm. Send "
        "their UTM values to an arm (saved for this trial), or leave them out of the trial."
    )
    arms = {a.name: a.id for a in trial.all_arms}
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
        try:
            trials.save_utm_rules(trial.id, rules)
        except UserError as e:  # e.g. a value too long to keep: nothing was saved
            st.error(md(str(e)), icon=":material/error:")
            return
        flash(f"Saved {len(rules)} UTM rules.")
        st.rerun()
