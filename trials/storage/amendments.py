"""Amendments to a trial's pre-registered plan, behind :class:`trials.storage.store.TrialStore`.

Like the decision log, amendments are append-only: the store offers no way to change or
remove one, the database refuses to (triggers, migration 0004), and a trial with an
amendment is archived, never deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, insert, or_, select
from sqlalchemy.engine import Connection

from trials.domain import Trial, TrialSpec
from trials.domain.amendments import (
    Amendment,
    AmendmentNeeded,
    arms_value,
    changes_rule,
    describe_changes,
    locked_changes,
)
from trials.storage import schema as t

if TYPE_CHECKING:
    from trials.storage.trials import TrialRepository

__all__ = [
    "AmendmentRepository",
    "has_data",
    "locked_changes_to_record",
    "record_amendment",
    "round_has_data",
    "rule_versions",
]


class AmendmentRepository:
    """Amendments to trials' pre-registered plans: append-only."""

    def __init__(self, trials: TrialRepository):
        self.trials = trials

    def amendments(self, trial_id: int) -> list[Amendment]:
        """The trial's amendments, oldest first."""
        a = t.amendments.c
        with self.trials.engine.connect() as conn:
            trial = self.trials.load(conn, trial_id)
            rows = conn.execute(
                select(t.amendments).where(a.trial_id == trial.id).order_by(a.id)
            ).all()
        return [_amendment(row) for row in rows]

    def has_data(self, trial_id: int) -> bool:
        """Whether the trial has any daily results (any source) or own orders."""
        with self.trials.engine.connect() as conn:
            return has_data(conn, self.trials.load(conn, trial_id).id)


def has_data(conn: Connection, trial_id: int) -> bool:
    results = exists().where(t.daily_results.c.trial_id == trial_id)
    orders = exists().where(t.orders.c.trial_id == trial_id)
    return bool(conn.scalar(select(or_(results, orders))))


def round_has_data(conn: Connection, trial: Trial) -> bool:
    """Whether the trial's current round has data: any result or own order dated in it
    (a trial without rounds: any at all). A round's plan locks with its own data."""
    if not trial.rounds:
        return has_data(conn, trial.id)
    r, o = t.daily_results.c, t.orders.c
    results = exists().where(r.trial_id == trial.id, r.day >= trial.spec.start)
    orders = exists().where(o.trial_id == trial.id, o.ordered_at >= _start_of(trial.spec.start))
    return bool(conn.scalar(select(or_(results, orders))))


def _start_of(day) -> datetime:
    # Orders keep the shop's local time as written (no time zone), as the day rows do.
    return datetime(day.year, day.month, day.day)


def rule_versions(conn: Connection, trial_ids: Sequence[int]) -> dict[int, int]:
    """Each trial's rule version (1 + amendments to its rule or primary metric)."""
    versions = dict.fromkeys(trial_ids, 1)
    if not trial_ids:
        return versions
    a = t.amendments.c
    for row in conn.execute(
        select(a.trial_id, a.before, a.after).where(a.trial_id.in_(list(trial_ids)))
    ):
        if changes_rule(row.before or {}) or changes_rule(row.after or {}):
            versions[row.trial_id] += 1
    return versions


def locked_changes_to_record(
    conn: Connection,
    trial: Trial,
    spec: TrialSpec,
    arm_ids: Sequence[int | None],
    reason: str | None,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The amendment an update makes, to record; None when there is nothing to record.

    Refuses (``AmendmentNeeded``) a change to a locked field of a trial with data when
    no reason is given. A reason given for a trial without data records the change too.
    """
    before, after = locked_changes(trial.spec, spec)
    if "arms" not in before and _arms_moved(trial, spec, arm_ids):
        # Same names and shares, but on other stored arms (e.g. two names swapped):
        # the data would change names, so that is an arms change too.
        before["arms"], after["arms"] = arms_value(trial.spec), arms_value(spec)
    if not before and not after:
        return None
    reason = (reason or "").strip()
    if reason:
        return before, after
    if not round_has_data(conn, trial):
        return None
    changes = "; ".join(describe_changes(before, after))
    how = "the reason field on the Trial page ('Why are you amending the pre-registered plan?')"
    if all(k.startswith("decision_rule.") for k in before):
        how += f", or `python -m trials amend '{trial.name}' … --reason TEXT` from the command line"
    raise AmendmentNeeded(
        f"'{trial.name}' has data, so its pre-registered plan is locked: changing it is "
        f"an amendment and needs a reason ({changes}). Give the reason in {how}. "
        "Nothing was saved.",
        before,
        after,
    )


def record_amendment(
    conn: Connection, trial_id: int, before: dict, after: dict, reason: str, *, actor: str
) -> int:
    """Append one amendment on ``conn`` (inside the caller's transaction)."""
    return conn.execute(
        insert(t.amendments).values(
            trial_id=trial_id,
            created_at=datetime.now(UTC),
            created_by=actor,
            reason=reason.strip(),
            before=before,
            after=after,
        )
    ).inserted_primary_key[0]


def _arms_moved(trial: Trial, spec: TrialSpec, arm_ids: Sequence[int | None]) -> bool:
    """Whether a stored arm now carries another arm's name."""
    old_names = {arm.id: arm.name.casefold() for arm in trial.arms}
    return any(
        arm_id is not None and arm_id in old_names and old_names[arm_id] != arm.name.casefold()
        for arm_id, arm in zip(arm_ids, spec.arms, strict=True)
    )


def _amendment(row) -> Amendment:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return Amendment(
        id=row.id,
        trial_id=row.trial_id,
        created_at=created,
        created_by=row.created_by,
        reason=row.reason,
        before=dict(row.before or {}),
        after=dict(row.after or {}),
    )
