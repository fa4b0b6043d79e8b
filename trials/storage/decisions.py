"""Writing and reading the decision log. Behind :class:`trials.storage.store.TrialStore`.

There is deliberately no update or delete: entries are append-only, and a correction is a
new entry pointing at the one it corrects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update

from trials.domain import TrialStatus, UserError
from trials.domain.verdicts import DecisionEntry, DecisionRecord
from trials.storage import schema as t
from trials.storage.trials import TrialRepository

__all__ = ["DecisionRepository"]


class DecisionRepository:
    """The decision log: append-only."""

    def __init__(self, trials: TrialRepository):
        self.trials = trials

    def record_decision(
        self, trial_id: int, record: DecisionRecord, snapshot: dict[str, Any]
    ) -> DecisionEntry:
        """Append a decision with its frozen evidence; optionally mark the trial decided."""
        with self.trials.write("record decisions") as conn:
            trial = self.trials.load_for_write(conn, trial_id)
            summary = record.summary(trial)
            d = t.decisions.c
            if record.corrects is not None:
                found = conn.execute(
                    select(d.id).where(d.id == record.corrects, d.trial_id == trial.id)
                ).first()
                if found is None:
                    raise UserError(
                        f"decision {record.corrects} is not in '{trial.name}'s log; nothing "
                        "was recorded"
                    )
            now = datetime.now(UTC)
            entry_id = conn.execute(
                insert(t.decisions).values(
                    trial_id=trial.id,
                    created_at=now,
                    created_by=self.trials.actor,
                    summary=summary,
                    note=record.note.strip(),
                    snapshot=snapshot,
                    corrects_id=record.corrects,
                )
            ).inserted_primary_key[0]
            if record.mark_decided and trial.spec.status is not TrialStatus.DECIDED:
                conn.execute(
                    update(t.trials)
                    .where(t.trials.c.id == trial.id)
                    .values(
                        status=TrialStatus.DECIDED.value,
                        updated_at=now,
                        updated_by=self.trials.actor,
                    )
                )
        return next(e for e in self.decisions(trial.id) if e.id == entry_id)

    def decisions(self, trial_id: int) -> list[DecisionEntry]:
        """The trial's decision log, oldest first, each with the entries correcting it."""
        d = t.decisions.c
        with self.trials.engine.connect() as conn:
            trial = self.trials.load(conn, trial_id)
            rows = conn.execute(
                select(t.decisions).where(d.trial_id == trial.id).order_by(d.id)
            ).all()
        corrected: dict[int, list[int]] = {}
        for row in rows:
            if row.corrects_id is not None:
                corrected.setdefault(row.corrects_id, []).append(row.id)
        return [
            DecisionEntry(
                id=row.id,
                trial_id=row.trial_id,
                created_at=row.created_at
                if row.created_at.tzinfo
                else row.created_at.replace(tzinfo=UTC),
                created_by=row.created_by,
                summary=row.summary,
                note=row.note,
                snapshot=row.snapshot,
                corrects=row.corrects_id,
                corrected_by=tuple(corrected.get(row.id, ())),
            )
            for row in rows
        ]
