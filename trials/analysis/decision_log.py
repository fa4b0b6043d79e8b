"""The decision log: what was decided on a trial, by whom, on what evidence.

Entries are append-only: the store offers no way to change or remove one. A correction is
a new entry that names the one it corrects. Each entry freezes its evidence (posterior
summaries and recommendations per arm, the data digest, the model settings, the app
version and the seed), so the log still shows why a decision was made after the data has
moved on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trials import APP_VERSION
from trials.domain import Trial, UserError

__all__ = ["DecisionEntry", "DecisionRecord", "entry_dict", "evidence_snapshot"]

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


def evidence_snapshot(analysis: dict[str, Any]) -> dict[str, Any]:
    """The frozen evidence from an ``analyze``-shaped result (see ``trials.cli.main``); the
    exact preview is no evidence (UserError)."""
    if analysis.get("preview"):
        raise UserError("a decision needs the full model's evidence, not the exact preview")
    keep_arm = (
        "channel",
        "creative",
        "control",
        "totals",
        "ctr",
        "cvr",
        "revenue_per_conversion",
        "roas",
        "cpa",
        "p_best",
        "p_beat_control",
        "lift_vs_control",
        "expected_loss",
        "expected_loss_unit",
        "p_roas_above_break_even",
        "recommendation",
        "reason",
        "weakest_stage",
    )
    return {
        "app_version": APP_VERSION,
        "method": analysis.get("method"),
        "pooling": analysis.get("pooling"),
        "overdispersion": analysis.get("overdispersion"),
        "hdi_prob": analysis.get("hdi_prob"),
        "seed": analysis.get("seed"),
        "data_digest": analysis.get("data_digest"),
        "results_source": analysis.get("results_source"),
        "source": analysis.get("source"),
        "diagnostics": analysis.get("diagnostics"),
        "decision": analysis.get("decision"),  # the verdict and the rule it was judged by
        "arms": [{k: arm.get(k) for k in keep_arm} for arm in analysis.get("arms", [])],
    }


def entry_dict(entry: DecisionEntry) -> dict[str, Any]:
    """One log entry as JSON (``python -m trials decisions --json``)."""
    return {
        "id": entry.id,
        "created_at": entry.created_at.isoformat(),
        "created_by": entry.created_by,
        **entry.summary,
        "note": entry.note,
        "corrects": entry.corrects,
        "corrected_by": list(entry.corrected_by),
        "snapshot": entry.snapshot,
    }
