"""Units pooled within their parent, in closed form: the fast path of the segment and week
tables.

The data are the funnel model's, with the roles moved down one level: each *unit* (an
arm's segment, or an arm's week) stands where an arm stands, and its *parent* (the arm)
where a channel stands (``FunnelData.channels`` are the parents, ``arm_channel`` maps
units to them). The full model (``inference.funnel.fit.fit_mcmc``) fits these data as they
are: units pooled within their parent. This module gives the same pooling in closed form,
in milliseconds:

* each unit's CTR and CVR have a Beta prior centred on its parent's rate m, as wide as
  the model's prior spread of arms within a channel (``priors.arm_spread``, 0.3 on the
  log-odds scale) plus the uncertainty of that centre: Beta(m n0, (1 - m) n0) with n0
  chosen so that the prior's log-odds sd is exactly that width, trigamma(m n0) +
  trigamma((1 - m) n0) = width² (``parent_centres``: the normal hierarchy's estimate of
  the parent's centre from its units, with the spread known);
* so the posterior is Beta(m n0 + hits, (1 - m) n0 + misses): a unit with few clicks
  stays near its parent, one with plenty stands on its own;
* order values likewise: the rate of single orders' Gamma has a Gamma(a0, b0) prior whose
  log sd is ``priors.revenue_arm_spread`` (trigamma(a0) = spread²) and whose order value
  k b0 / (a0 - 1) is the parent's;
* the paying share and unpaired conversions are the funnel's own conjugate parts
  (``inference.funnel.derived``), ROAS and CPA the funnel's product of the parts.

Like the exact preview it takes every day alike (no day-to-day overdispersion), so with
real daily variation its intervals are narrower than the full model's.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
from scipy import optimize, special

from inference.funnel.conjugate import beta_hdi, order_value_shape
from inference.funnel.data import FunnelData
from inference.funnel.derived import stage_posterior
from inference.funnel.spec import ModelSpec
from inference.summary import Interval, Posterior

__all__ = [
    "DEFAULT_DRAWS",
    "parent_centres",
    "pooled_beta_prior",
    "pooled_posterior",
    "unit_stages",
]

DEFAULT_DRAWS = 4000


def pooled_beta_prior(mean: float, spread: float) -> tuple[float, float]:
    """Beta(a, b) with mean ``mean`` whose log-odds sd is ``spread``:
    a = mean n0, b = (1 - mean) n0 with trigamma(a) + trigamma(b) = spread²."""
    mean = min(max(mean, 1e-9), 1 - 1e-9)

    def gap(log_n: float) -> float:
        n = math.exp(log_n)
        return math.log(special.polygamma(1, mean * n) + special.polygamma(1, (1 - mean) * n))

    # The log-odds variance falls from infinity to 0 as n0 grows.
    log_n = optimize.brentq(lambda x: gap(x) - 2 * math.log(spread), -30.0, 60.0, xtol=1e-12)
    n = math.exp(log_n)
    return mean * n, (1 - mean) * n


def _gamma_shape_for_log_sd(spread: float) -> float:
    """a with trigamma(a) = spread² (the log sd of a Gamma(a, ·) variable)."""
    return math.exp(
        optimize.brentq(
            lambda x: math.log(special.polygamma(1, math.exp(x))) - 2 * math.log(spread),
            -30.0,
            60.0,
            xtol=1e-12,
        )
    )


def parent_centres(
    hits: np.ndarray, tries: np.ndarray, parent: np.ndarray, n_parents: int, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per parent, where its units' rates centre and how widely they spread.

    On the log-odds scale each unit's raw rate y (with half a hit and half a miss added) has
    sampling variance v = 1 / (n p (1 - p)); with units spread by ``spread`` around the
    parent's centre mu, the centre's estimate is the precision-weighted mean of y
    (weights 1 / (spread² + v)) with variance 1 / sum of the weights, which a unit's prior
    adds to its spread (so a parent with few units is no firmer a centre than its data).
    A parent without tries centres at a rate of 1/2 with spread 1.5 (the model's wide
    prior)."""
    hits = np.asarray(hits, dtype=float)
    tries = np.asarray(tries, dtype=float)
    rate = (hits + 0.5) / (tries + 1.0)
    y = special.logit(rate)
    with np.errstate(divide="ignore"):
        v = np.where(tries > 0, 1.0 / ((tries + 1.0) * rate * (1.0 - rate)), np.inf)
    w = 1.0 / (spread**2 + v)
    total = np.bincount(parent, weights=w, minlength=n_parents)
    weighted = np.bincount(
        parent, weights=np.where(np.isfinite(v), w * y, 0.0), minlength=n_parents
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.where(total > 0, weighted / total, 0.0)
        sd = np.where(total > 0, np.sqrt(spread**2 + 1.0 / total), 1.5)
    return special.expit(mu), sd


def unit_stages(data: FunnelData, spec: ModelSpec) -> dict[str, np.ndarray]:
    """Per unit, the conjugate posteriors' parameters: ``ctr`` and ``cvr`` (alpha, beta)
    and ``order_value`` (k, shape, rate), each with its prior pooled toward the parent."""
    t = data.totals()
    parent = np.asarray(data.arm_channel)
    n_parents = data.n_channels
    p = spec.priors

    def per_parent(values: np.ndarray) -> np.ndarray:
        return np.bincount(parent, weights=np.asarray(values, dtype=float), minlength=n_parents)

    out: dict[str, np.ndarray] = {}
    for stage, (hits, tries) in {
        "ctr": (t.clicks, t.impressions),
        "cvr": (t.converted_clicks, t.paired_clicks),
    }.items():
        centre, spread = parent_centres(hits, tries, parent, n_parents, p.arm_spread)
        priors = np.array([pooled_beta_prior(m, s) for m, s in zip(centre, spread, strict=True)])
        a0, b0 = priors[parent, 0], priors[parent, 1]
        out[stage] = np.column_stack([a0 + hits, b0 + tries - hits])
    k = order_value_shape(spec)
    orders, revenue = data.order_totals()
    parent_orders, parent_revenue = per_parent(orders), per_parent(revenue)
    pooled = data.pooled_order_value()
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(parent_orders > 0, parent_revenue / parent_orders, pooled)
    a0 = _gamma_shape_for_log_sd(p.revenue_arm_spread)
    b0 = (a0 - 1.0) * value[parent] / k
    out["order_value"] = np.column_stack([np.full(data.n_arms, k), a0 + k * orders, b0 + revenue])
    return out


def pooled_posterior(
    data: FunnelData,
    spec: ModelSpec | None = None,
    *,
    seed: int = 0,
    n_draws: int = DEFAULT_DRAWS,
) -> Posterior:
    """Every unit's posterior, pooled toward its parent (see the module's notes): CTR and
    CVR intervals in closed form (Beta HDIs), ROAS, CPA and revenue per conversion from
    ``n_draws`` seeded draws of the same conjugate posteriors."""
    spec = spec or ModelSpec()
    started = time.perf_counter()
    stages = unit_stages(data, spec)
    rng = np.random.default_rng([seed, 17])
    size = (n_draws, data.n_arms)
    ctr = rng.beta(stages["ctr"][:, 0], stages["ctr"][:, 1], size=size)
    cvr = rng.beta(stages["cvr"][:, 0], stages["cvr"][:, 1], size=size)
    k, shape, rate = stages["order_value"].T
    order_value = k / rng.gamma(shape, 1.0 / rate, size=size)
    posterior = stage_posterior(
        "exact", data, spec, ctr, cvr, order_value, seed=seed, started=started
    )
    intervals = {}
    for metric in ("ctr", "cvr"):
        row = []
        for unit, (alpha, beta) in enumerate(stages[metric]):
            reason = posterior.undefined.get(metric, {}).get(unit)
            if reason:
                row.append(Interval(math.nan, math.nan, math.nan, reason))
            else:
                row.append(Interval(alpha / (alpha + beta), *beta_hdi(alpha, beta, spec.hdi_prob)))
        intervals[metric] = tuple(row)
    return replace(posterior, intervals=intervals, seconds=time.perf_counter() - started)
