"""What past trials teach: the learned priors in plain words, the back-test, and a trial's
choice to use them (``trials.analysis.priors`` computes everything; this only draws)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from trials.analysis.priors import (
    STAGE_NAMES,
    priors_backtest,
    strength_words,
    trial_model_spec,
    workspace_priors,
)
from trials.domain import UserError
from trials.domain.priors import OVERRIDE_STAGES
from trials.storage.store import TrialStore
from ui.access import may_change
from ui.text import md, money, percent

__all__ = ["learned_priors_table", "priors_backtest_view", "trial_priors_form"]


def _value(stage: str, x: float, currency: str | None) -> str:
    return percent(x, 2) if stage in ("ctr", "cvr") else money(x, currency or "")


def learned_priors_table(trials: TrialStore) -> None:
    """The priors per channel and stage, in a marketer's words."""
    found = workspace_priors(trials)
    for note in found.notes():
        st.info(md(note), icon=":material/info:")
    rows = found.rows()
    if not rows:
        return
    st.caption(
        "Learned from " + md(", ".join(found.trials)) + ". Each channel's past arms are "
        "treated as draws from one distribution; its centre and how much trials differ are "
        "fitted, so the range is where a **new** trial's figure is likely to land."
    )
    table = pd.DataFrame(
        [
            {
                "Channel": r.channel or "All channels",
                "Stage": STAGE_NAMES[r.stage],
                "Typical": _value(r.stage, r.mean, r.currency),
                "9 in 10 new trials between": " and ".join(
                    _value(r.stage, x, r.currency) for x in r.interval()
                ),
                "Strength": strength_words(r),
                "Past trials": r.trials,
                "Past arms": "–" if r.arms is None else r.arms,
                "Why weaker": r.capped or "",
            }
            for r in rows
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(
        "**Strength** says how much evidence a prior is worth: a prior worth about 500 "
        "clicks moves a new trial's conversion rate as much as 500 clicks of its own data "
        "would. A learned prior is never worth more than one typical past trial's data, and "
        "with one or two past trials it is kept weak (about two conversions' worth). Money "
        "is shown per currency and never mixed."
    )


def priors_backtest_view(trials: TrialStore) -> None:
    """Leave-one-trial-out: would the priors have helped on day 7?"""
    if not st.toggle("Run the back-test on this workspace's history", key="priors_backtest"):
        return
    with st.spinner("Learning from all but one trial, for each trial…"):
        b = priors_backtest(trials)
    if b.reason:
        st.info(f"No back-test: {md(b.reason)}.", icon=":material/info:")
        return
    st.markdown(
        f"Each of {b.trials} finished trials in turn was left out; priors were learned from "
        f"the others. Each arm's estimate after its first {b.days} days, without and with "
        "those priors, is compared with what the trial finally showed."
    )
    rows = []
    for s in b.stages:
        if s.error_without is None:
            continue
        fmt = (lambda x: percent(x, 1)) if s.stage == "order_value" else (lambda x: percent(x, 3))
        rows.append(
            {
                "Stage": STAGE_NAMES[s.stage],
                "Arms": s.arms,
                f"Off by, day {b.days}, without": fmt(s.error_without),
                f"Off by, day {b.days}, with": fmt(s.error_with),
                "Smaller by": "–" if s.improvement is None else percent(s.improvement, 0),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(
        "Off by: the average distance from the trial's final figure (rates in percentage "
        "points; revenue per conversion as a share of the final value)."
    )
    if b.days_saved_median is not None:
        st.markdown(
            f"**Days saved**: without the priors, a trial needed a median of "
            f"{b.days_saved_median:g} more days of data (mean {b.days_saved_mean:.1f}) for "
            f"its conversion rate to come as close to its final figure as the day-{b.days} "
            "estimate with them."
        )


def trial_priors_form(trials: TrialStore) -> None:
    """A trial's choice: analyse with learned priors, and channels' priors set by hand."""
    summaries = {s.trial.id: s.trial for s in trials.list_trials()}
    if not summaries:
        return
    trial_id = st.selectbox(
        "Trial", list(summaries), format_func=lambda i: summaries[i].name, key="priors_trial"
    )
    trial = summaries[trial_id]
    setting = trials.trial_priors(trial.id)
    state = (
        "uses priors learned from past trials"
        if setting.use_learned
        else ("uses the default priors")
    )
    who = (
        f" (set by {md(setting.created_by)} on {setting.created_at:%Y-%m-%d %H:%M} UTC)"
        if setting.created_by
        else ""
    )
    st.markdown(f"**{md(trial.name)}** {state}{who}.")
    choice = trial_model_spec(trials, trial, setting=setting)
    if choice.note:
        st.caption(md(choice.note))
    for o in setting.overrides:
        st.caption(
            f"Set by hand: {md(o.channel)} {STAGE_NAMES[o.stage]} {percent(o.mean, 2)}, "
            f"worth about {o.strength:,.0f} clicks of evidence."
        )
    if not may_change(trials, "change a trial's priors"):
        return
    channels = sorted({a.spec.channel for a in trial.arms})
    with st.form("priors_form"):
        use = st.toggle("Analyse this trial with learned priors", value=setting.use_learned)
        st.caption("Optionally set one channel's prior by hand (it replaces the learned one).")
        c1, c2, c3, c4 = st.columns(4)
        channel = c1.selectbox("Channel", ["(none)", *channels])
        stage = c2.selectbox("Stage", OVERRIDE_STAGES, format_func=lambda s: STAGE_NAMES[s])
        mean = c3.number_input("Mean rate (%)", value=3.0, min_value=0.001, max_value=99.9)
        strength = c4.number_input("Worth (clicks)", value=500.0, min_value=1.0)
        clear = st.checkbox("Remove every prior set by hand")
        saved = st.form_submit_button("Save", type="primary")
    if saved:
        overrides = [] if clear else [o.as_dict() for o in setting.overrides]
        if channel != "(none)":
            overrides.append(
                {"channel": channel, "stage": stage, "mean": mean / 100, "strength": strength}
            )
        try:
            trials.set_trial_priors(trial.id, use, overrides)
        except UserError as e:
            st.error(md(str(e)), icon=":material/error:")
            return
        st.rerun()
