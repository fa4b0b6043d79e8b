"""The words of a verdict and the decisions a team records.

The verdict vocabulary (recommendations, their labels, the quantity each primary metric
is decided on) and the decision log's entries are plain data: ``trials.analysis``
decides, ``trials.storage`` keeps the log (append-only: a correction is a new entry that
names the one it corrects), ``trials.reports`` and the pages present them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trials.domain import ArmTotals, PrimaryMetric, Trial, UserError, limits

__all__ = [
    "ACTIONS",
    "LABELS",
    "VERDICT_LABELS",
    "DecisionEntry",
    "DecisionRecord",
    "higher_is_better",
    "metric_name",
    "raw_estimate",
]

LABELS = {
    "scale": "Scale",
    "keep_testing": "Keep testing",
    "equal": "Practically equal",
    "stop": "Stop",
    "fix_creative": "Fix the creative",
    "fix_landing": "Fix the landing page",
    "preview": "Preview only (no recommendation)",  # the exact path (trials.analysis.preview)
}
VERDICT_LABELS = {
    "scale": "Scale the winner",
    "keep_testing": "Keep testing",
    "equal": "Practically equal",
    "stop_all": "Stop: every arm probably loses money",
    "preview": "Preview — not the verdict",  # the exact path (trials.analysis.preview)
}
METRIC_QUANTITY = {
    PrimaryMetric.CONVERSION_RATE: ("cvr", True),
    PrimaryMetric.ROAS: ("roas", True),
    PrimaryMetric.CPA: ("cpa", False),
}


def metric_name(metric: PrimaryMetric) -> str:
    """The posterior quantity a primary metric is decided on."""
    return METRIC_QUANTITY[metric][0]


def higher_is_better(metric: PrimaryMetric) -> bool:
    """Whether more of the primary metric is better (CPA: less is)."""
    return METRIC_QUANTITY[metric][1]


def raw_estimate(metric: PrimaryMetric, t: ArmTotals) -> float | None:
    """The metric straight from the totals, before any modelling (None when undefined)."""
    if metric is PrimaryMetric.ROAS:
        return t.revenue / t.spend if t.spend else None
    if metric is PrimaryMetric.CPA:
        return t.spend / t.conversions if t.conversions else None
    return t.conversions / t.clicks if t.clicks else None


ACTIONS = ("scale", "stop", "fix", "keep_testing")


@dataclass(frozen=True)
class DecisionRecord:
    """A decision as the user records it (before it is stored)."""

    scale: tuple[str, ...] = ()  # arm names
    stop: tuple[str, ...] = ()
    fix: tuple[str, ...] = ()
    keep_testing: tuple[str, ...] = ()
    budget_change: str = ""
    note: str = ""
    corrects: int | None = None  # id of the entry this one corrects
    mark_decided: bool = False

    def summary(self, trial: Trial) -> dict[str, Any]:
        names = {a.name for a in trial.arms}
        for action in ACTIONS:
            unknown = [n for n in getattr(self, action) if n not in names]
            if unknown:
                raise UserError(
                    f"{', '.join(unknown)}: not an arm of '{trial.name}'; arms are "
                    + ", ".join(f"'{n}'" for n in sorted(names))
                )
        chosen = [n for action in ACTIONS for n in getattr(self, action)]
        twice = sorted({n for n in chosen if chosen.count(n) > 1})
        if twice:
            raise UserError(f"{', '.join(twice)}: an arm can have one action only")
        if not chosen and not self.budget_change.strip() and not self.note.strip():
            raise UserError("an empty decision: choose arms, a budget change or write a note")
        for name in ("budget_change", "note"):
            why = limits.text_problem(getattr(self, name).strip(), limits.LONG_TEXT)
            if why:
                raise UserError(f"the {name.replace('_', ' ')} {why}; nothing was recorded")
        return {action: list(getattr(self, action)) for action in ACTIONS} | {
            "budget_change": self.budget_change.strip()
        }


@dataclass(frozen=True)
class DecisionEntry:
    id: int
    trial_id: int
    created_at: datetime
    created_by: str
    summary: dict[str, Any]
    note: str
    snapshot: dict[str, Any]
    corrects: int | None = None
    corrected_by: tuple[int, ...] = field(default=())
