"""What an import would change, what it did, and the rules that send orders to arms.

Plain data shared by reading files (``trials.ingest``), writing them
(``trials.storage``) and crediting orders (``trials.domain.attribution``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from trials.domain import DailyResult, OrderRow, Problem, ResultRow, UserError, limits

__all__ = [
    "ImportBatch",
    "ImportOutcome",
    "OrderChange",
    "OrdersPlan",
    "OverlapError",
    "ResultChange",
    "ResultsPlan",
    "UtmRule",
]


@dataclass(frozen=True)
class ImportBatch:
    """One write of results: a file import, a manual edit or the demo loader."""

    id: int
    trial_id: int
    kind: str
    file_name: str | None
    digest: str | None
    row_count: int
    status: str
    created_at: datetime
    created_by: str
    undone_at: datetime | None = None
    undone_by: str | None = None
    details: dict | None = None

    @property
    def undone(self) -> bool:
        return self.status == "undone"


@dataclass(frozen=True)
class ResultChange:
    """What writing one incoming row would do: ``new``, ``unchanged`` or ``changed``
    (``old`` is the stored row it would replace); ``removed`` for a manual deletion."""

    kind: str
    row: ResultRow
    old: DailyResult | None = None


@dataclass(frozen=True)
class ResultsPlan:
    """Incoming rows compared with the stored ones, before anything is written."""

    changes: tuple[ResultChange, ...]
    unknown_arms: tuple[tuple[str, str], ...]  # (channel, creative) not in the trial
    same_file: object | None = None  # the ImportBatch that imported these bytes before

    def of(self, kind: str) -> list[ResultChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def writes(self) -> bool:
        return any(c.kind != "unchanged" for c in self.changes)

    def counts(self) -> dict[str, int]:
        kinds = ("new", "changed", "unchanged", "removed")
        return {k: len(self.of(k)) for k in kinds}


@dataclass(frozen=True)
class OrderChange:
    kind: str  # new, unchanged, changed
    order: OrderRow
    old: OrderRow | None = None


@dataclass(frozen=True)
class OrdersPlan:
    changes: tuple[OrderChange, ...]
    same_file: object | None = None

    def of(self, kind: str) -> list[OrderChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def writes(self) -> bool:
        return any(c.kind != "unchanged" for c in self.changes)

    def counts(self) -> dict[str, int]:
        return {k: len(self.of(k)) for k in ("new", "changed", "unchanged")}


@dataclass(frozen=True)
class ImportOutcome:
    """What a commit did. ``batch`` is None when nothing needed writing."""

    batch: object | None
    counts: dict[str, int] = field(default_factory=dict)
    added_arms: tuple[str, ...] = ()

    @property
    def changed_nothing(self) -> bool:
        return self.batch is None


class OverlapError(UserError):
    """Incoming rows would change stored numbers and the caller did not say ``replace``."""

    def __init__(self, message: str, plan: ResultsPlan | OrdersPlan):
        super().__init__(message)
        self.plan = plan


@dataclass(frozen=True)
class UtmRule:
    """UTM values (blank = any) that send an order to an arm."""

    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    arm_id: int

    @property
    def values(self) -> tuple[str, str, str, str]:
        return (self.utm_source, self.utm_medium, self.utm_campaign, self.utm_content)

    def matches(self, utm: Sequence[str]) -> bool:
        return all(
            not want or want.casefold() == have.casefold()
            for want, have in zip(self.values, utm, strict=True)
        )

    @property
    def specificity(self) -> int:
        return sum(bool(v) for v in self.values)

    def problems(self) -> list[Problem]:
        """What keeps this rule from being saved: no value at all, or one too long."""
        names = ("utm_source", "utm_medium", "utm_campaign", "utm_content")
        out = [
            Problem(name, why)
            for name, value in zip(names, self.values, strict=True)
            if (why := limits.text_problem(" ".join(value.split()), limits.UTM_VALUE))
        ]
        if not any(v.strip() for v in self.values):
            out.append(Problem("utm", "a UTM rule needs at least one UTM value"))
        return out
