"""What the rule reads off posterior draws of the primary metric: P(best), P(better than
the leader), the leader's relative expected loss and P(equal), with their Monte Carlo
errors (the rule itself: ``inference.rule``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference import montecarlo

__all__ = ["Quantities", "quantities_from_draws"]


@dataclass(frozen=True)
class Quantities:
    """What the rule reads off a posterior of the primary metric, per arm (arrays of k),
    with the Monte Carlo errors of the estimates (``inference.montecarlo``)."""

    p_best: np.ndarray
    p_beats_leader: np.ndarray  # P(arm better than the leader); the leader's own is 0.5
    relative_loss: float  # the leader's expected loss over its mean
    p_equal: float  # P(every arm within the margin of the leader)
    leader: int
    p_best_error: float  # Monte Carlo standard error of the leader's P(best)
    p_beats_error: np.ndarray | None = None  # ... of each arm's P(better than the leader)
    relative_loss_error: float = 0.0
    p_equal_error: float = 0.0


def quantities_from_draws(
    draws: np.ndarray,
    *,
    higher_is_better: bool = True,
    margin: float = 0.1,
    effective_draws: float | None = None,
    runs: Sequence[tuple[int, int]] = (),
) -> Quantities:
    """:class:`Quantities` from posterior draws shaped (n_draws, k), all finite.

    The Monte Carlo errors come from the effective sample size of each quantity's own
    per-draw values, from the chains ``runs`` describes (``inference.summary.Posterior
    .runs``; empty: independent draws); ``effective_draws``, when given, is used for
    every quantity instead.
    """
    x = np.asarray(draws, dtype=float)
    n = x.shape[0]
    oriented = x if higher_is_better else -x
    top = oriented.max(axis=1, keepdims=True)
    best = oriented == top
    share = best / best.sum(axis=1, keepdims=True)
    p_best = share.mean(axis=0)
    leader = int(np.argmax(p_best))
    lead = oriented[:, [leader]]
    beats = (oriented > lead) + 0.5 * (oriented == lead)
    p_beats = beats.mean(axis=0)
    p_beats[leader] = 0.5
    leader_mean = abs(x[:, leader].mean())
    gap = (top - lead)[:, 0]
    loss = float(gap.mean())
    relative = loss / leader_mean if leader_mean > 0 else math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = x / x[:, [leader]] - 1.0
    within = np.all(np.abs(ratio) <= margin, axis=1)
    # The relative loss is a ratio of means: its error is that of the linearised mean
    # gap - relative * |X_L| over |E X_L|.
    linear = gap - (relative if math.isfinite(relative) else 0.0) * np.abs(x[:, leader])
    per_draw = np.column_stack([share[:, leader], beats, within, linear])
    m = (
        np.full(per_draw.shape[1], float(effective_draws))
        if effective_draws
        else montecarlo.effective_draws(per_draw, runs)
    )
    errors = montecarlo.probability_error(per_draw[:, :-1].mean(axis=0), m[:-1])
    beats_error = np.asarray(errors[1:-1], dtype=float)
    beats_error[leader] = 0.0
    spread = float(linear.std(ddof=1)) if n > 1 else 0.0
    return Quantities(
        p_best=p_best,
        p_beats_leader=p_beats,
        relative_loss=relative,
        p_equal=float(within.mean()),
        leader=leader,
        p_best_error=float(errors[0]),
        p_beats_error=beats_error,
        relative_loss_error=spread / math.sqrt(m[-1]) / leader_mean if leader_mean > 0 else 0.0,
        p_equal_error=float(errors[-1]),
    )
