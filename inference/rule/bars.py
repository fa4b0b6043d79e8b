"""The rule's parameters and its bars: the winner threshold over arms and daily looks.

The rule itself is stated in ``inference.rule``; this module holds the names of its
verdicts and gates, the :class:`Rule` the verdict reads, and the look boundary
w(t) = Phi(C t^(Delta - 1/2)) with its constant C found by simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

__all__ = [
    "BOUNDARY_DELTA",
    "BOUNDARY_PATHS",
    "BOUNDARY_SEED",
    "GATES",
    "MIN_INFORMATION",
    "SETTLED_ERRORS",
    "VERDICTS",
    "Rule",
    "boundary_constant",
    "winner_threshold",
]

VERDICTS = ("scale", "keep_testing", "equal", "stop_all")
GATES = ("min_days", "min_conversions", "reliable_fit")
BOUNDARY_DELTA = 0.25  # Wang-Tsiatis shape of the look boundary (see inference.rule)
MIN_INFORMATION = 0.2  # the boundary stops rising at a fifth of the planned days
# A settled comparison clears its bar by this many Monte Carlo errors. At 3, a verdict on
# a probability exactly on its bar is called either way by at most 2 x 0.13 % of seeds
# over the analysis' up to three looks (first run, x4, x16 draws).
SETTLED_ERRORS = 3.0
BOUNDARY_PATHS = 20_000
BOUNDARY_SEED = 20261129


@dataclass(frozen=True)
class Rule:
    """The parts of a trial's decision rule the verdict reads (``trials.domain.DecisionRule``
    is the registered form)."""

    min_days: int = 7
    min_conversions_per_arm: int = 25
    probability_threshold: float = 0.95
    expected_loss_threshold: float = 0.01
    equivalence_margin: float = 0.1
    profit_confidence: float = 0.8
    planned_days: int | None = None  # the trial's planned length: the looks' schedule


@lru_cache(maxsize=256)
def boundary_constant(alpha: float, first_day: int, planned_days: int) -> float:
    """The constant C of the look boundary z_t = C t^(Delta - 1/2) for daily looks on days
    ``first_day`` .. ``planned_days``, such that a z-statistic under no difference crosses
    it on some look with probability ``alpha``.

    Computed once per schedule on BOUNDARY_PATHS simulated Brownian paths with a fixed
    seed (the z-statistic at day d of a trial with independent days is W(d) / sqrt(d));
    a single look gives z_(1 - alpha) exactly.
    """
    z = float(stats.norm.ppf(1 - alpha))
    first = max(int(first_day), 1)
    planned = int(planned_days)
    if planned <= first:
        return z
    rng = np.random.default_rng(BOUNDARY_SEED)
    days = np.arange(first, planned + 1)
    steps = np.diff(np.concatenate([[0], days]))
    w = np.cumsum(rng.standard_normal((BOUNDARY_PATHS, len(days))) * np.sqrt(steps), axis=1)
    shape = (days / planned) ** (BOUNDARY_DELTA - 0.5)
    worst = (w / np.sqrt(days) / shape).max(axis=1)
    return max(float(np.quantile(worst, 1 - alpha)), z)


def winner_threshold(
    probability_threshold: float,
    n_arms: int,
    information=1.0,
    planned_days: int | None = None,
    first_day: int = 1,
):
    """The P(best) an arm needs to be called the winner among ``n_arms`` at a look made
    when ``information`` (a share) of the ``planned_days`` have data.

    Each arm may cross with probability (1 - p) / k (Bonferroni over arms), spent over the
    daily looks from ``first_day`` to the planned end by the boundary
    Phi(C t^(Delta - 1/2)) (see ``inference.rule``); without ``planned_days`` it is one
    look, 1 - (1 - p) / k. After the planned end the bar stays at its final level.
    ``information`` may be an array (one threshold per look).
    """
    alpha = (1.0 - probability_threshold) / max(n_arms, 1)
    if planned_days is None:
        c = float(stats.norm.ppf(1 - alpha))
        t = np.ones_like(np.asarray(information, dtype=float))
    else:
        c = boundary_constant(round(alpha, 12), first_day, planned_days)
        t = np.clip(np.asarray(information, dtype=float), MIN_INFORMATION, 1.0)
    w = stats.norm.cdf(c * t ** (BOUNDARY_DELTA - 0.5))
    return float(w) if np.ndim(w) == 0 else w
