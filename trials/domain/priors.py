"""A trial's choice about priors learned from past trials: whether ``analyze`` uses them,
and any channel's prior set by hand (an override), with who chose and when."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trials.domain.errors import UserError

__all__ = [
    "MAX_OVERRIDE_STRENGTH",
    "OVERRIDE_STAGES",
    "PriorOverride",
    "TrialPriors",
    "parse_overrides",
]

OVERRIDE_STAGES = ("ctr", "cvr")
MAX_OVERRIDE_STRENGTH = 1_000_000  # clicks (or impressions) of evidence an override may claim


@dataclass(frozen=True)
class PriorOverride:
    """A channel's prior for one stage, set by hand: a mean rate worth ``strength`` clicks
    (impressions for CTR) of evidence."""

    channel: str
    stage: str
    mean: float
    strength: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "stage": self.stage,
            "mean": self.mean,
            "strength": self.strength,
        }


@dataclass(frozen=True)
class TrialPriors:
    """The trial's current setting (the latest recorded; defaults when none was)."""

    trial_id: int
    use_learned: bool = False
    overrides: tuple[PriorOverride, ...] = field(default_factory=tuple)
    created_at: datetime | None = None
    created_by: str | None = None

    def override(self, channel: str, stage: str) -> PriorOverride | None:
        return next((o for o in self.overrides if o.channel == channel and o.stage == stage), None)


def parse_overrides(
    items: Iterable[dict[str, Any] | PriorOverride], channels: Iterable[str]
) -> tuple[PriorOverride, ...]:
    """Overrides checked against the trial's channels; every problem in one UserError."""
    known = set(channels)
    out: dict[tuple[str, str], PriorOverride] = {}
    problems = []
    for item in items:
        d = item.as_dict() if isinstance(item, PriorOverride) else dict(item)
        channel, stage = str(d.get("channel", "")), str(d.get("stage", ""))
        where = f"{channel or '?'} {stage or '?'}"
        if channel not in known:
            problems.append(
                f"{where}: the trial has no channel '{channel}' (its channels: "
                f"{', '.join(sorted(known)) or 'none'})"
            )
            continue
        if stage not in OVERRIDE_STAGES:
            problems.append(f"{where}: the stage must be ctr or cvr")
            continue
        try:
            mean, strength = float(d.get("mean")), float(d.get("strength"))
        except (TypeError, ValueError):
            problems.append(f"{where}: give a mean rate and a strength as numbers")
            continue
        if not (math.isfinite(mean) and 0 < mean < 1):
            problems.append(f"{where}: the mean rate must be between 0% and 100%")
            continue
        if not (math.isfinite(strength) and 0 < strength <= MAX_OVERRIDE_STRENGTH):
            problems.append(
                f"{where}: the strength (clicks of evidence) must be above 0 and at most "
                f"{MAX_OVERRIDE_STRENGTH:,}"
            )
            continue
        out[(channel, stage)] = PriorOverride(channel, stage, mean, strength)
    if problems:
        raise UserError("Prior overrides refused, nothing was saved: " + "; ".join(problems))
    return tuple(out[k] for k in sorted(out))
