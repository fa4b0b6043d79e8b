"""One arm's days for the response curve: its spend ladder, the budget steps in it, whether
a curve can be fitted, and the arrays the models read."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SpendLadder", "ladder_reason", "model_values", "spend_levels"]

LEVEL_TOLERANCE = 0.15  # days within 15 % of a level's spend belong to it
MIN_DAYS_PER_LEVEL = 3
MIN_LEVEL_RATIO = 1.3  # the highest level must be this much above the lowest


@dataclass(frozen=True)
class SpendLadder:
    """One arm's days: spend, conversions and revenue, in date order."""

    spend: np.ndarray
    conversions: np.ndarray
    revenue: np.ndarray

    @classmethod
    def of(cls, spend, conversions, revenue) -> SpendLadder:
        return cls(
            np.asarray(spend, dtype=float),
            np.asarray(conversions, dtype=np.int64),
            np.asarray(revenue, dtype=float),
        )

    @property
    def current_spend(self) -> float:
        """The level the arm runs at now: the median of its last level's days."""
        levels = spend_levels(self.spend)
        return levels[-1][0] if levels else float(np.median(self.spend))


def spend_levels(spend: np.ndarray) -> list[tuple[float, int]]:
    """Budget steps in date order: (median daily spend, days) for each run of days whose
    spend stays within 15 % of the run's first day; runs shorter than 3 days are dropped."""
    runs: list[list[float]] = []
    for s in np.asarray(spend, dtype=float):
        if s <= 0:
            continue
        if runs and abs(s / runs[-1][0] - 1) <= LEVEL_TOLERANCE:
            runs[-1].append(s)
        else:
            runs.append([s])
    return [(float(np.median(r)), len(r)) for r in runs if len(r) >= MIN_DAYS_PER_LEVEL]


def ladder_reason(ladder: SpendLadder) -> str | None:
    """Why a curve cannot be fitted (None when it can)."""
    n = len(ladder.spend)
    if len(ladder.conversions) != n or len(ladder.revenue) != n:
        return "its spend, conversions and revenue have different numbers of days"
    arrays = (ladder.spend, ladder.conversions, ladder.revenue)
    if any(not np.all(np.isfinite(a)) or np.any(a < 0) for a in arrays):
        return "its data hold missing or negative numbers"
    levels = spend_levels(ladder.spend)
    if len(levels) < 2:
        return (
            "the arm has run at one daily spend level; step its budget (e.g. +50 % for a "
            "week) to see how returns change with spend"
        )
    spends = [s for s, _ in levels]
    if max(spends) / min(spends) < MIN_LEVEL_RATIO:
        return "its spend levels are too close together (less than 30 % apart) to show a curve"
    if ladder.conversions.sum() < 10:
        return "fewer than 10 conversions so far"
    if not np.any((ladder.conversions > 0) & (ladder.revenue > 0) & (ladder.spend > 0)):
        return "no revenue recorded yet, so returns cannot be valued"
    return None


def model_values(ladder: SpendLadder) -> dict[str, np.ndarray]:
    """The data the model reads, scaled to today's spend level.

    Only days with spend enter: the curve has nothing to say about a paused day, and
    conversions credited to one (late attribution) would be impossible under it.
    """
    s0 = ladder.current_spend
    spent = ladder.spend > 0
    spend, conversions = ladder.spend[spent], ladder.conversions[spent]
    revenue = ladder.revenue[spent]
    # Today's level: the mean over the days at today's spend (within the level tolerance).
    today = np.abs(spend / s0 - 1) <= LEVEL_TOLERANCE
    level = max(float(np.mean(conversions[today])) if today.any() else 0.0, 0.5)
    # Days with conversions but no revenue (not yet paid, or a free trial) say nothing
    # about order values, as in the funnel model.
    with_orders = (conversions > 0) & (revenue > 0)
    total = revenue[with_orders].sum()
    value = total / conversions[with_orders].sum() if total > 0 else 1.0
    return {
        "x": spend / s0,
        "conversions": conversions,
        "revenue": np.where(with_orders, revenue, 1.0),
        "has_orders": with_orders.astype(float),
        "log_level": np.asarray(math.log(level)),
        "log_value": np.asarray(math.log(value)),
    }
