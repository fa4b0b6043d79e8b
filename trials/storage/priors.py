"""A trial's priors setting (learned priors on or off, channels' priors set by hand),
behind :class:`trials.storage.store.TrialStore`. Each change is a new row with who made it
and when; the latest row is the setting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from trials.domain.priors import PriorOverride, TrialPriors, parse_overrides
from trials.storage import schema as t
from trials.storage.rows import utc_now

if TYPE_CHECKING:
    from trials.storage.trials import TrialRepository

__all__ = ["PriorsRepository"]


class PriorsRepository:
    def __init__(self, trials: TrialRepository):
        self.trials = trials

    def history(self, trial_id: int) -> list[TrialPriors]:
        """Every recorded setting of the trial, oldest first."""
        p = t.trial_priors.c
        with self.trials.engine.connect() as conn:
            trial = self.trials.load(conn, trial_id)
            rows = conn.execute(
                select(t.trial_priors).where(p.trial_id == trial.id).order_by(p.id)
            ).all()
        return [
            TrialPriors(
                trial_id=row.trial_id,
                use_learned=bool(row.use_learned),
                overrides=tuple(
                    PriorOverride(o["channel"], o["stage"], float(o["mean"]), float(o["strength"]))
                    for o in row.overrides
                ),
                created_at=row.created_at
                if row.created_at.tzinfo
                else row.created_at.replace(tzinfo=UTC),
                created_by=row.created_by,
            )
            for row in rows
        ]

    def current(self, trial_id: int) -> TrialPriors:
        """The trial's setting: the latest recorded, or learned priors off."""
        history = self.history(trial_id)
        if history:
            return history[-1]
        with self.trials.engine.connect() as conn:
            return TrialPriors(trial_id=self.trials.load(conn, trial_id).id)

    def record(
        self, trial_id: int, use_learned: bool, overrides: Sequence[PriorOverride | dict]
    ) -> TrialPriors:
        """Record a new setting (checked against the trial's channels first)."""
        with self.trials.write("change a trial's priors") as conn:
            trial = self.trials.load_for_write(conn, trial_id)
            checked = parse_overrides(overrides, {a.spec.channel for a in trial.arms})
            now = utc_now()
            conn.execute(
                insert(t.trial_priors).values(
                    trial_id=trial.id,
                    use_learned=bool(use_learned),
                    overrides=[o.as_dict() for o in checked],
                    created_at=now,
                    created_by=self.trials.actor,
                )
            )
        return TrialPriors(trial.id, bool(use_learned), checked, now, self.trials.actor)
