"""Rounds on the pages: the round picker (Results, Recommendations), the Trial page's
rounds and *Start next round* form, and *Compare rounds*."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from trials.analysis.rounds import STAGE_WORDS, compare_rounds, start_round
from trials.domain import Trial, TrialValidationError, UserError
from trials.domain.rounds import NextRound, RoundChanges, default_end, parse_arm
from trials.storage.store import TrialStore
from ui.access import may_change
from ui.session import flash
from ui.text import md, money, percent

__all__ = [
    "pick_round",
    "round_caption",
    "round_without_data",
    "show_comparison",
    "show_rounds",
    "start_next_round",
]

ROUND_KEY = "round"
# The form's words for the fields a refusal names.
FIELD_WORDS = {
    "start": "Starts",
    "end": "Ends",
    "budget": "Budget",
    "reason": "Why",
    "arms": "Arms",
    "replace_creative": "New creative",
    "drop_arm": "Drop arms",
}


def pick_round(trial: Trial) -> Trial:
    """The round to show (a trial in rounds): the current one unless the URL or the
    picker asks for an earlier one, one click away. A trial without rounds is itself."""
    if not trial.rounds:
        return trial
    numbers = [r.number for r in trial.rounds]
    requested = st.query_params.get(ROUND_KEY, "")
    current = int(requested) if requested.isdigit() and int(requested) in numbers else numbers[-1]
    chosen = st.segmented_control(
        "Round",
        numbers,
        default=current,
        format_func=lambda n: f"Round {n}" + (" (current)" if n == numbers[-1] else ""),
        key=f"round_of_{trial.id}",
    )
    chosen = chosen or current
    if chosen == numbers[-1]:
        st.query_params.pop(ROUND_KEY, None)
    else:
        st.query_params[ROUND_KEY] = str(chosen)
    return trial.in_round(chosen)


def round_without_data(trial: Trial) -> None:
    """Stop the page when the round shown has no data yet (the trial has, in an earlier
    round), pointing at the earlier rounds."""
    if not trial.rounds or len(_round_rows(trial)):
        return
    st.info(
        f"Round {trial.round_number} has no data yet: import its days on the Data page, or "
        "pick an earlier round above."
    )
    st.stop()


def _round_rows(trial: Trial):
    from trials.analysis.result import funnel_data
    from ui.session import store

    return funnel_data(store(), trial).arm


def round_caption(trial: Trial) -> None:
    """Which round the page shows, and its dates (nothing for a trial without rounds)."""
    if not trial.rounds:
        return
    r = trial.round(trial.round_number)
    where = "the current round" if trial.is_current_round else "an earlier round"
    st.caption(
        f"Round {r.number} of {trial.current_round} ({where}): {r.start:%d %b %Y} to "
        f"{r.end:%d %b %Y}, budget {money(r.budget, trial.spec.currency)}."
    )


def show_rounds(trial: Trial) -> None:
    """The trial's rounds: dates, budget, arms and what changed as each began."""
    if not trial.rounds:
        st.caption(
            "This trial has one round so far. Start the next one when you have fixed the "
            "content or the landing path, to measure what the fix changed."
        )
        return
    names = {a.id: a.name for a in trial.all_arms}
    rows = []
    for r in trial.rounds:
        changes = [f"{names[o]} → {names[n]}" for o, n in r.replaced]
        changes += [f"added {names[i]}" for i in r.added]
        changes += [f"dropped {names[i]}" for i in r.dropped]
        rows.append(
            {
                "Round": r.number,
                "Dates": f"{r.start:%d %b %Y} to {r.end:%d %b %Y}",
                "Budget": money(r.budget, trial.spec.currency),
                "Arms": ", ".join(names[i] for i in r.arm_ids),
                "What changed": "; ".join(changes) or "—",
                "Why": r.reason or "—",
                "Started by": r.created_by,
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)


def start_next_round(trials: TrialStore, trial: Trial, has_data: bool) -> None:
    """The *Start next round* form: new dates, budget and arms, with the reason."""
    if not may_change(trials, "start a new round"):
        return
    if not has_data:
        st.caption("The next round can start once this round has data.")
        return
    spec = trial.spec
    arm_names = [a.name for a in trial.arms]
    with st.form(f"next_round_{trial.id}"):
        st.markdown(f"**Start round {trial.current_round + 1}**")
        left, right = st.columns(2)
        start = left.date_input("Starts", value=spec.end + timedelta(days=1), format="YYYY-MM-DD")
        end = right.date_input(
            "Ends",
            value=default_end(spec.start, spec.end, spec.end + timedelta(days=1)),
            format="YYYY-MM-DD",
        )
        budget = st.number_input(
            f"Budget ({spec.currency})", min_value=0.0, value=float(spec.budget), step=100.0
        )
        replaced = {}
        st.caption(
            "New creative for an arm (leave blank to keep it): the new creative runs as a "
            "new arm on the same channel, so its data stay apart from the old one's."
        )
        for arm in trial.arms:
            text = st.text_input(f"New creative for {arm.name}", key=f"new_{trial.id}_{arm.id}")
            if text.strip():
                replaced[arm.name] = text.strip()
        dropped = st.multiselect("Drop arms", arm_names)
        added = st.text_area(
            "Add arms (one per line, 'Channel · Creative')", placeholder="Douyin · Clip 1"
        )
        reason = st.text_input(
            "Why does the next round start?", placeholder="new landing page for WeChat"
        )
        submitted = st.form_submit_button("Start next round", type="primary")
    if not submitted:
        return
    try:
        plan = NextRound(
            start=start,
            end=end,
            budget=budget,
            reason=reason,
            changes=RoundChanges(
                replace=tuple(replaced.items()),
                add=tuple(parse_arm(line) for line in added.splitlines() if line.strip()),
                drop=tuple(dropped),
            ),
        )
        updated = start_round(trials, trial, plan)
    except TrialValidationError as e:
        st.error(
            "The round was not started: "
            + "; ".join(
                f"{FIELD_WORDS.get(p.field, md(p.field))}: {md(p.message)}" for p in e.problems
            ),
            icon=":material/error:",
        )
    except UserError as e:
        st.error(f"The round was not started: {md(str(e))}", icon=":material/error:")
    else:
        r = updated.rounds[-1]
        flash(
            f"Round {r.number} of {md(updated.name)} starts {r.start:%d %b %Y}; round "
            f"{r.number - 1} ended {updated.rounds[-2].end:%d %b %Y}."
        )
        st.rerun()


def show_comparison(trials: TrialStore, trial: Trial, posteriors) -> None:
    """*Compare rounds*: per arm and stage, the change from the previous round with its
    interval and P(improved). ``posteriors``: the two rounds' fits (earlier, later)."""
    comparison = compare_rounds(
        trials,
        trial,
        before=trial.round_number - 1,
        after=trial.round_number,
        posteriors=posteriors,
    )
    st.caption(
        f"Round {comparison.before} → round {comparison.after}: each stage's change as a "
        f"share of round {comparison.before}'s figure, with its {comparison.hdi_prob:.0%} "
        "interval and the chance it improved (for cost per conversion: went down)."
    )
    for note in comparison.notes:
        st.caption(md(note))
    rows = []
    for arm in comparison.arms:
        label = arm.after_name if arm.kind == "same" else f"{arm.before_name} → {arm.after_name}"
        for s in arm.stages:
            rows.append(
                {
                    "Arm": label,
                    "Stage": STAGE_WORDS[s.stage],
                    "Before": _figure(s.stage, s.before.mean, trial.spec.currency),
                    "After": _figure(s.stage, s.after.mean, trial.spec.currency),
                    "Change": s.reason
                    or f"{s.change.mean:+.0%} ({s.change.low:+.0%} to {s.change.high:+.0%})",
                    "Chance it improved": percent(s.p_improved, 0)
                    if s.p_improved is not None
                    else "—",
                }
            )
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
    for name in comparison.added:
        st.caption(f"New in round {comparison.after}: {md(name)} (nothing to compare with).")
    for name in comparison.dropped:
        st.caption(f"Not in round {comparison.after}: {md(name)}.")


def _figure(stage: str, value: float, currency: str) -> str:
    if value != value:  # NaN: undefined
        return "—"
    if stage in ("ctr", "cvr"):
        return percent(value, 2)
    if stage == "roas":
        return f"{value:.2f}"
    return money(value, currency)
