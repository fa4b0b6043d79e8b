"""The exact path: closed-form posteriors per arm, in milliseconds.

With independent arms and binomial counts, Beta priors are conjugate:

    CTR | data ~ Beta(a + clicks, b + impressions - clicks)
    CVR | data ~ Beta(a + conversions, b + clicks - conversions)

Order values are Gamma(k, beta) with a known shape ``k`` (the prior median's,
k = 1 / (floor^2 + cv^2) from ``priors.order_value_cv``), so
a day's revenue from n orders is Gamma(n k, beta); with a Gamma(a0, b0) prior on the rate,

    beta | data ~ Gamma(a0 + k N, b0 + R),    revenue per conversion = k / beta,

where N and R are the conversions and revenue on days that have both. The prior is weak
(a0 = 1, b0 = k / m, m the trial's pooled order value); an arm without orders yet takes
the whole trial's posterior, so its ROAS follows its conversion rate. ROAS, CPA and revenue per
impression follow from independent draws of these (``inference.derived``).

It ignores day-to-day overdispersion and pooling, so it is a preview and a cross-check,
never a substitute for the model's intervals.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import optimize, stats

from inference.data import FunnelData
from inference.derived import stage_posterior
from inference.spec import ModelSpec
from inference.summary import Interval, Posterior

__all__ = [
    "beta_hdi",
    "beta_posterior",
    "exact_posterior",
    "exact_rate_intervals",
    "order_value_posterior",
]

DEFAULT_DRAWS = 4000


def beta_posterior(
    successes: np.ndarray, trials: np.ndarray, a: float = 1.0, b: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Parameters (alpha, beta) of the Beta posterior of a rate."""
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    return a + successes, b + trials - successes


def beta_hdi(alpha: float, beta: float, prob: float) -> tuple[float, float]:
    """Exact highest-density interval of Beta(alpha, beta).

    For a unimodal density the HDI [l, u] has F(u) - F(l) = prob and f(l) = f(u); we
    search the lower tail mass q in [0, 1 - prob] for equal densities. Where the density
    is monotone (alpha <= 1 or beta <= 1) the HDI touches 0 or 1. A U-shaped Beta (both
    below 1; never a posterior under this module's priors) gets the central interval.
    """
    dist = stats.beta(alpha, beta)
    if alpha <= 1 and beta > 1:
        return 0.0, float(dist.ppf(prob))
    if beta <= 1 and alpha > 1:
        return float(dist.ppf(1 - prob)), 1.0
    if alpha <= 1 and beta <= 1:
        return float(dist.ppf((1 - prob) / 2)), float(dist.ppf((1 + prob) / 2))

    def gap(q: float) -> float:
        return dist.pdf(dist.ppf(q)) - dist.pdf(dist.ppf(q + prob))

    q = optimize.brentq(gap, 1e-12, 1 - prob - 1e-12, xtol=1e-12)
    return float(dist.ppf(q)), float(dist.ppf(q + prob))


def order_value_posterior(
    data: FunnelData, spec: ModelSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gamma posterior (shape, rate) of each arm's order-value rate, and orders counted."""
    k = order_value_shape(spec)
    has_both = (data.conversions > 0) & (data.revenue > 0)
    orders = np.bincount(
        data.arm[has_both], weights=data.conversions[has_both], minlength=data.n_arms
    )
    revenue = np.bincount(data.arm[has_both], weights=data.revenue[has_both], minlength=data.n_arms)
    pooled = revenue.sum() / orders.sum() if orders.sum() > 0 else 1.0
    a0, b0 = 1.0, k / pooled
    shape, rate = a0 + k * orders, b0 + revenue
    # An arm with no orders yet is taken to be worth the trial's pooled order value, as
    # uncertain as the pooled estimate (the prior alone has no finite mean of k / rate).
    none = orders == 0
    shape[none], rate[none] = a0 + k * orders.sum(), b0 + revenue.sum()
    return shape, rate, orders


def order_value_shape(spec: ModelSpec) -> float:
    """The gamma shape of single order values at the prior's median CV."""
    p = spec.priors
    return 1.0 / (p.order_value_cv_floor**2 + p.order_value_cv**2)


def exact_rate_intervals(data: FunnelData, spec: ModelSpec) -> dict[str, list[Interval]]:
    """Exact means and HDIs of CTR and CVR per arm (no sampling)."""
    totals = data.totals()
    a, b = spec.priors.beta_a, spec.priors.beta_b
    out: dict[str, list[Interval]] = {}
    for metric, (hits, tries) in {
        "ctr": (totals.clicks, totals.impressions),
        "cvr": (totals.converted_clicks, totals.paired_clicks),
    }.items():
        alpha, beta = beta_posterior(hits, tries, a, b)
        out[metric] = [
            Interval(al / (al + be), *beta_hdi(al, be, spec.hdi_prob))
            for al, be in zip(alpha, beta, strict=True)
        ]
    return out


def exact_posterior(
    data: FunnelData,
    spec: ModelSpec | None = None,
    *,
    seed: int = 0,
    n_draws: int = DEFAULT_DRAWS,
) -> Posterior:
    """Independent conjugate posteriors per arm, as draws of every quantity."""
    started = time.perf_counter()
    spec = spec or ModelSpec()
    rng = np.random.default_rng(seed)
    totals = data.totals()
    a, b = spec.priors.beta_a, spec.priors.beta_b
    ctr = rng.beta(
        *beta_posterior(totals.clicks, totals.impressions, a, b), size=(n_draws, data.n_arms)
    )
    cvr = rng.beta(
        *beta_posterior(totals.converted_clicks, totals.paired_clicks, a, b),
        size=(n_draws, data.n_arms),
    )
    shape, rate, _ = order_value_posterior(data, spec)
    beta_rate = rng.gamma(shape, 1.0 / rate, size=(n_draws, data.n_arms))
    per_conversion = order_value_shape(spec) / beta_rate
    return stage_posterior(
        "exact", data, spec, ctr, cvr, per_conversion, seed=seed, started=started
    )
