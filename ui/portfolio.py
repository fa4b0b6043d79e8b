"""The portfolio page's parts: money per currency (converted only at the rates entered),
the decision log per channel, where the next money goes, and new channels to try."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from trials.analysis.portfolio import BY, Portfolio, PortfolioRow, portfolio, with_curves
from trials.domain import UserError
from trials.domain.exchange import Rates, parse_rate
from trials.domain.verdicts import LABELS, VERDICT_LABELS
from trials.storage.store import TrialStore
from ui.fits import cached_analyses
from ui.text import md, money, number

__all__ = ["show_portfolio"]

BY_LABELS = {"channel": "Channel", "trial": "Trial", "week": "Week", "month": "Month"}
ACTION_WORDS = {"scale": "Scale", "stop": "Stop", "fix": "Fix", "keep_testing": "Keep testing"}


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:,.2f}"


def _range(figure, fmt) -> str:
    if figure.mean is None:
        return figure.reason or "–"
    return f"{fmt(figure.low)} – {fmt(figure.high)}"


def _table(rows: list[PortfolioRow], currency: str, by: str) -> pd.DataFrame:
    cash = lambda x: money(x, currency)  # noqa: E731
    return pd.DataFrame(
        [
            {
                BY_LABELS[by]: r.label,
                "Trials": len(r.trials),
                "Spend": cash(r.spend),
                "Revenue": cash(r.revenue),
                "Conversions": number(r.conversions),
                "ROAS (raw)": _ratio(r.raw_roas),
                "ROAS (model)": _ratio(r.roas.mean),
                "ROAS 94% interval": _range(r.roas, _ratio),
                "CPA (raw)": money(r.raw_cpa, currency),
                "CPA (model)": money(r.cpa.mean, currency),
                "CPA 94% interval": _range(r.cpa, cash),
            }
            for r in rows
        ]
    )


def _inputs(trials: TrialStore) -> tuple[str, Rates | None]:
    """The grouping and the rates entered (None: a rate could not be read; said on page)."""
    currencies = sorted({s.trial.spec.currency for s in trials.list_trials()})
    left, right = st.columns(2)
    by = left.radio("Rows", BY, format_func=BY_LABELS.get, horizontal=True, key="portfolio_by")
    target = right.selectbox(
        "Convert into",
        ["(keep each currency)", *currencies],
        key="portfolio_currency",
        help="Money is never added across currencies: choose a currency and enter a rate "
        "for each other one; a currency without a rate keeps its own table.",
    )
    if target == "(keep each currency)":
        return by, Rates()
    given = {}
    others = [c for c in currencies if c != target]
    if others:
        cols = st.columns(len(others))
        for col, code in zip(cols, others, strict=True):
            text = col.text_input(
                f"1 {code} in {target}", key=f"portfolio_rate_{code}", placeholder="no rate"
            )
            if text.strip():
                given[code] = text.strip()
    try:
        return by, Rates(target, dict(parse_rate(f"{c}={v}") for c, v in given.items()))
    except UserError as e:
        st.error(md(str(e)))
        return by, None


def _books(p: Portfolio) -> None:
    if p.rates.rates:
        st.info(
            "Rates used: "
            + ", ".join(f"1 {c} = {r} {p.rates.target}" for c, r in sorted(p.rates.rates.items()))
        )
    if not p.books:
        st.info("No trial has data yet.")
    for book in p.books:
        st.subheader(f"{book.currency}")
        if book.note:
            # Our words with validated currency codes and rates: nothing typed by a user.
            (st.warning if book.note.startswith("not converted") else st.caption)(book.note)
        st.dataframe(
            _table([*book.rows, book.total], book.currency, p.by),
            hide_index=True,
            width="stretch",
        )
    st.caption(md(p.method_note))
    if p.without_data:
        st.caption("No data yet: " + ", ".join(md(n) for n in p.without_data))
    for note in p.notes:
        st.caption(md(note))


def _channels(p: Portfolio) -> None:
    if not p.channels:
        st.caption("No trial yet.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Channel": c.channel,
                    "Counts as": c.common or "–",
                    "Status": c.status.capitalize(),
                    "Trials": ", ".join(c.trials),
                }
                for c in p.channels
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    actions = [a for c in p.channels for a in c.actions]
    if not actions:
        st.caption("No decision recorded yet (record them on Recommendations).")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Date": a.day.isoformat(),
                    "Who": a.who,
                    "Trial": a.trial,
                    "Arm": a.arm,
                    "Decision": ACTION_WORDS.get(a.action, a.action)
                    + (f" (corrected by #{a.corrected_by[0]})" if a.corrected_by else ""),
                    "Why": a.reason or "–",
                    "Why from": "the note" if a.reason_source == "note" else "the evidence",
                }
                for a in sorted(actions, key=lambda a: (a.day, a.entry_id))
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def _next_money(p: Portfolio) -> None:
    if p.next_arms:
        rows = []
        for n in p.next_arms:
            curve = n.curve
            marginal, advice = "–", "–"
            if curve is not None:
                m = curve.marginal_now
                if m.defined:
                    marginal = f"{m.mean:.2f} ({m.low:.2f} – {m.high:.2f})"
                    advice = curve.advice
                else:
                    marginal = m.reason or "–"
            rows.append(
                {
                    "Trial": n.trial,
                    "Arm": n.arm,
                    "Recommendation": LABELS.get(n.recommendation, n.recommendation),
                    "Verdict": VERDICT_LABELS.get(n.verdict, n.verdict),
                    "Marginal ROAS now (94%)": marginal,
                    "Advice": advice,
                    "Verdict from": n.source,
                }
            )
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption(
            "Marginal ROAS: what the next unit of spend returns at today's daily spend, "
            "from the arm's response curve (arms that ran at one spend level have none)."
        )
    if p.no_verdict:
        st.caption(
            "No verdict to read yet (open the trial's Results, or record a decision): "
            + ", ".join(md(n) for n in p.no_verdict)
        )
    st.markdown("**New channels to try**")
    if not p.new_channels:
        st.caption("The workspace has tried every channel on the list.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Channel": n.channel.name,
                    "What": n.channel.what,
                    "What the workspace expects": "no expectation yet"
                    if n.expectation is None
                    else str(n.expectation),
                }
                for n in p.new_channels
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def show_portfolio(trials: TrialStore) -> None:
    """The whole page below its title."""
    by, rates = _inputs(trials)
    if rates is None:
        st.stop()
    with st.spinner("Reading every trial…"):
        p = portfolio(
            trials,
            by=by,
            rates=rates,
            analyses=cached_analyses([s.trial for s in trials.list_trials()]),
            curves=False,
        )
    _books(p)
    st.header("Channels tested and decisions")
    _channels(p)
    st.header("Where the next money goes")
    # The tables show at once; the response curves (a small model per arm) follow.
    with st.spinner("Fitting the chosen arms' response curves…"):
        p = with_curves(trials, p)
    _next_money(p)
