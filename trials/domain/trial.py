"""A trial and its arms as stored, and one row of the trials overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from trials.domain.spec import ArmSpec, TrialSpec

__all__ = ["Arm", "Trial", "TrialSummary"]


@dataclass(frozen=True)
class Arm:
    """A stored arm: its database id and its spec."""

    id: int
    spec: ArmSpec

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class Trial:
    """A stored trial."""

    id: int
    spec: TrialSpec
    arms: tuple[Arm, ...]
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    # 1 + the amendments that changed the decision rule or the primary metric once the
    # trial had data (see ``trials.domain.amendments``); the store fills it when loading.
    rule_version: int = 1

    @property
    def name(self) -> str:
        return self.spec.name

    def arm(self, arm_id: int) -> Arm:
        for a in self.arms:
            if a.id == arm_id:
                return a
        raise KeyError(arm_id)


@dataclass(frozen=True)
class TrialSummary:
    """One row of the trials overview."""

    trial: Trial
    days_with_data: int
    spend: float
    last_data_date: date | None

    @property
    def budget_used(self) -> float | None:
        budget = self.trial.spec.budget
        return self.spend / budget if budget > 0 else None
