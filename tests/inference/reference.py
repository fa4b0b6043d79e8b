"""An independent reference for the funnel model, per arm on its own, from first principles.

Written without the model's code, to compare operating characteristics against:

* **ROAS**: the arm's revenue / spend, with its uncertainty by a Bayesian bootstrap over
  the arm's days (Dirichlet(1, ..., 1) weights w on the exported rows; a draw is
  sum w revenue / sum w spend). Days are the unit that varies (day effects, order values,
  view-through lumps, late conversions all stay inside a day), so no funnel assumption is
  made. With a single day the ratio has no spread: a known limit of the bootstrap.
* **CVR**: a beta-binomial on the arm's days whose clicks can explain their conversions
  (clicks > 0 and conversions <= clicks), conversions_d ~ BetaBinomial(clicks_d, m kappa,
  (1 - m) kappa), with a grid posterior over (logit m, log kappa): flat on logit m, flat on
  log kappa in [log 2, log 1e5]. Draws of m come from the grid with jitter within a cell.
* **Raw totals**: revenue / spend and conversions / clicks, no uncertainty.

Every function that draws takes a seed.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from inference.funnel.data import FunnelData

__all__ = ["raw_roas", "reference_draws"]

LOGIT_GRID = 121
KAPPA_GRID = 41


def raw_roas(data: FunnelData) -> np.ndarray:
    t = data.totals()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t.spend > 0, t.revenue / t.spend, np.nan)


def bootstrap_roas(data: FunnelData, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    out = np.full((n_draws, data.n_arms), np.nan)
    for a in range(data.n_arms):
        rows = data.arm == a
        spend, revenue = data.spend[rows], data.revenue[rows]
        if spend.sum() <= 0:
            continue
        w = rng.dirichlet(np.ones(len(spend)), size=n_draws)
        out[:, a] = (w @ revenue) / (w @ spend)
    return out


def beta_binomial_rate(
    successes: np.ndarray, trials: np.ndarray, n_draws: int, rng: np.random.Generator
) -> np.ndarray:
    """Draws of the mean rate m of a beta-binomial over days, by grid posterior."""
    if trials.sum() == 0:
        return np.full(n_draws, np.nan)
    raw = (successes.sum() + 0.5) / (trials.sum() + 1.0)
    centre = special.logit(raw)
    # Wide enough for one day's binomial and for strong day-to-day variation.
    half = 6.0 / np.sqrt(successes.sum() + 1.0) + 0.5
    logit_m = np.linspace(centre - half, centre + half, LOGIT_GRID)
    log_kappa = np.linspace(np.log(2.0), np.log(1e5), KAPPA_GRID)
    m = special.expit(logit_m)[:, None, None]
    kappa = np.exp(log_kappa)[None, :, None]
    loglik = stats.betabinom.logpmf(
        successes[None, None, :], trials[None, None, :], m * kappa, (1 - m) * kappa
    ).sum(axis=-1)
    weights = np.exp(loglik - loglik.max()).ravel()
    cells = rng.choice(weights.size, size=n_draws, p=weights / weights.sum())
    i = cells // KAPPA_GRID
    step = logit_m[1] - logit_m[0]
    return special.expit(logit_m[i] + rng.uniform(-step / 2, step / 2, n_draws))


def reference_draws(data: FunnelData, *, seed: int, n_draws: int = 4000) -> dict[str, np.ndarray]:
    """Per-arm draws of ``roas`` and ``cvr``, shape (n_draws, n_arms)."""
    rng = np.random.default_rng([seed, 7])
    cvr = np.full((n_draws, data.n_arms), np.nan)
    paired = (data.clicks > 0) & (data.conversions <= data.clicks)
    for a in range(data.n_arms):
        rows = (data.arm == a) & paired
        cvr[:, a] = beta_binomial_rate(data.conversions[rows], data.clicks[rows], n_draws, rng)
    return {"roas": bootstrap_roas(data, n_draws, rng), "cvr": cvr}
