"""The Trial page's Edit and Manage tabs: the registration form pre-filled (an amendment
of a locked field needs a reason), the status moves, and deleting a trial."""

from __future__ import annotations

import streamlit as st

from trials.domain import (
    Trial,
    TrialSpec,
    TrialStatus,
    TrialSummary,
    TrialValidationError,
    UserError,
)
from trials.storage.store import TrialStore
from ui.access import may_change
from ui.form_problems import show_problems
from ui.rule_check import show_trial_look_rates
from ui.session import flash
from ui.text import md
from ui.trial_form import trial_form

__all__ = ["edit_trial", "manage_trial"]

MOVES = {
    TrialStatus.DRAFT: [TrialStatus.RUNNING, TrialStatus.ARCHIVED],
    TrialStatus.RUNNING: [TrialStatus.DECIDED, TrialStatus.ARCHIVED],
    TrialStatus.DECIDED: [TrialStatus.RUNNING, TrialStatus.ARCHIVED],
    TrialStatus.ARCHIVED: [TrialStatus.DRAFT, TrialStatus.RUNNING],
}
MOVE_LABELS = {
    TrialStatus.DRAFT: "Restore as draft",
    TrialStatus.RUNNING: "Mark as running",
    TrialStatus.DECIDED: "Mark as decided",
    TrialStatus.ARCHIVED: "Archive",
}


def edit_trial(trials: TrialStore, trial: Trial, amendments: list) -> None:
    """The registration form, pre-filled; ``amendments`` are those recorded before this
    run (to say when a save recorded a new one)."""
    if not may_change(trials, "edit the trial"):
        return
    if st.toggle("Show how the rule behaves when checked every day", key="look_rates"):
        show_trial_look_rates(trial)
    submitted, slots = trial_form(
        f"edit_{trial.id}",
        initial=trial,
        submit_label="Save changes",
        ask_reason=trials.has_data(trial.id),
    )
    if not submitted:
        return
    try:
        updated = trials.update_trial(
            trial.id,
            TrialSpec.build(**submitted.values),
            submitted.arm_ids,
            reason=submitted.reason or None,
        )
    except TrialValidationError as problems:
        show_problems(slots, problems)
    except UserError as e:
        # E.g. a locked field changed without a reason: nothing was saved.
        slots.slots.get("reason", slots.slots["_general"]).error(
            md(str(e)), icon=":material/error:"
        )
    else:
        recorded = len(trials.amendments(trial.id)) > len(amendments)
        note = " The amendment is recorded and listed on this page." if recorded else ""
        flash(f"Saved changes to {md(updated.name)}.{note}")
        st.rerun()


def manage_trial(trials: TrialStore, summary: TrialSummary) -> None:
    """The status and the buttons that move it; deleting a trial that has nothing of
    record (see ``TrialStore.why_not_deletable``)."""
    trial = summary.trial
    st.write(f"Status: **{trial.spec.status.value}**")
    if not may_change(trials, "change the status or delete the trial"):
        return
    _status_moves(trials, trial)
    st.divider()
    st.write("**Delete**")
    why = trials.why_not_deletable(trial.id)
    if why:
        st.caption(f"This trial can be archived but not deleted. {md(why)}")
        return
    _delete(trials, trial)


def _status_moves(trials: TrialStore, trial: Trial) -> None:
    moves = MOVES[trial.spec.status]
    for column, status in zip(st.columns(len(moves) + 2)[: len(moves)], moves, strict=True):
        if column.button(MOVE_LABELS[status], key=f"status_{status.value}"):
            trials.set_status(trial.id, status)
            flash(f"{md(trial.name)} is now {status.value}.")
            st.rerun()


def _delete(trials: TrialStore, trial: Trial) -> None:
    sure = st.checkbox("Yes, delete this trial and everything stored for it", key="confirm_delete")
    if not st.button("Delete trial", type="primary", disabled=not sure):
        return
    try:
        trials.delete_trial(trial.id)
    except UserError as e:
        st.error(md(str(e)))
    else:
        flash(f"Deleted {md(trial.name)}.")
        st.query_params.clear()
        st.switch_page("app_pages/trials.py")
