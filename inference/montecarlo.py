"""The Monte Carlo error of a posterior mean (a probability, when the draws are indicators).

A probability the rule reads is the mean of a per-draw value v_d over N draws: an
indicator (the arm is best in draw d; its ROAS is above break-even) or, for the expected
loss, a difference. Its Monte Carlo error is

    error = sd(v) / sqrt(ESS)

with ESS the effective sample size of v's own chains (``inference.diagnostics.ess_mean``,
as ArviZ's ``ess(method="mean")``), not the number of draws nor another quantity's ESS:
successive MCMC draws are correlated (an AR(1) chain with coefficient phi has
ESS = N (1 - phi) / (1 + phi)). ESS is capped at the draws: an anti-correlated chain is
not credited with more precision than independent draws would give. Draws pooled from
independent runs r of n_r draws (N in all) have

    Var(mean) = sum_r (n_r / N)^2 Var(v) / ESS_r,   so   ESS = 1 / sum_r (n_r / N)^2 / ESS_r.

A probability p gets error sqrt((p + 1/m)(1 - p + 1/m) / m), m = ESS: never zero, so a
probability of 1 in every draw is still only known to about 1/m.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import optimize

from inference.diagnostics import ess_mean

__all__ = ["effective_draws", "error_at", "mean_error", "probability", "probability_error"]

Runs = Sequence[tuple[int, int]]  # (chains, draws per chain) per run, stacked in order


def effective_draws(values: np.ndarray, runs: Runs = ()) -> np.ndarray:
    """ESS of the mean of each column of ``values`` shaped (n_draws, q), or of a 1-D
    ``values`` (a float then). ``runs`` says how the draws were stacked (see
    ``inference.summary.Posterior.runs``); empty: independent draws, ESS = n_draws."""
    v = np.asarray(values, dtype=float)
    flat = v.reshape(v.shape[0], -1)
    n, q = flat.shape
    if not runs:
        out = np.full(q, float(n))
    else:
        if sum(c * d for c, d in runs) != n:
            raise ValueError(f"the runs {list(runs)} do not hold {n} draws")
        inverse = np.zeros(q)
        start = 0
        for chains, draws in runs:
            size = chains * draws
            block = flat[start : start + size].reshape(chains, draws, q).transpose(2, 0, 1)
            start += size
            ess = ess_mean(block) if draws >= 4 else np.full(q, np.nan)
            ess = np.where(np.isfinite(ess) & (ess > 0), np.minimum(ess, size), size)
            inverse += (size / n) ** 2 / ess
        out = 1.0 / inverse
    return out if v.ndim > 1 else float(out[0])


def probability_error(p, m):
    """Monte Carlo error of a probability ``p`` estimated from ``m`` effective draws."""
    p = np.asarray(p, dtype=float)
    m = np.asarray(m, dtype=float)
    error = np.sqrt((p + 1 / m) * (1 - p + 1 / m) / m)
    return float(error) if error.ndim == 0 else error


def error_at(bar: float, p: float, error: float) -> float:
    """The Monte Carlo error a probability estimated as ``p`` with ``error`` would have if
    it were ``bar``: the same effective draws, the variance bar (1 - bar). Comparing an
    estimate with a bar, the larger of the two is the fair yardstick: an estimate that
    strays far from the bar towards 0 or 1 would otherwise look surer than it is."""
    if error <= 0:
        return 0.0
    # The effective draws m behind the error: error^2 = u (p + u)(1 - p + u), u = 1 / m,
    # increasing in u > 0.
    u = optimize.brentq(lambda u: u * (p + u) * (1 - p + u) - error**2, 0.0, 1.0 + error)
    return max(float(error), float(probability_error(bar, 1 / u)))


def probability(indicator: np.ndarray, runs: Runs = ()) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``indicator`` (n_draws, q) in [0, 1]: the probability and its error."""
    x = np.asarray(indicator, dtype=float)
    p = x.mean(axis=0)
    return p, probability_error(p, effective_draws(x, runs))


def mean_error(values: np.ndarray, runs: Runs = ()) -> np.ndarray:
    """Monte Carlo error of the mean of each column of ``values`` (n_draws, q):
    sd / sqrt(ESS)."""
    x = np.asarray(values, dtype=float)
    return x.std(axis=0, ddof=1) / np.sqrt(effective_draws(x, runs))
