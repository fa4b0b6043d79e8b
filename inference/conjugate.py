"""The exact path: closed-form posteriors per arm, in milliseconds.

With independent arms and binomial counts, Beta priors are conjugate:

    CTR | data ~ Beta(a + clicks, b + impressions - clicks)
    CVR | data ~ Beta(a + conversions, b + clicks - conversions)

Order values are Gamma(k, beta) with a known shape ``k`` (``priors.order_value_shape``), so
a day's revenue from n orders is Gamma(n k, beta); with a Gamma(a0, b0) prior on the rate,

    beta | data ~ Gamma(a0 + k N, b0 + R),    revenue per conversion = k / beta,

where N and R are the conversions and revenue on days that have both. The prior is weak
(a0 = 1, b0 = k / m, m the trial's pooled order value). ROAS, CPA and revenue per
impression are exact functions of these, evaluated on independent draws:

    ROAS = (impressions / spend) * CTR * CVR * revenue_per_conversion
    CPA  = 1 / ((impressions / spend) * CTR * CVR)

It ignores day-to-day overdispersion and pooling, so it is a preview and a cross-check,
never a substitute for the model's intervals.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import optimize, stats

from inference.data import FunnelData
from inference.spec import ModelSpec
from inference.summary import Interval, Posterior

__all__ = [
    "beta_hdi",
    "beta_posterior",
    "exact_posterior",
    "exact_rate_intervals",
    "order_value_posterior",
    "undefined_for",
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
    k = spec.priors.order_value_shape
    has_both = (data.conversions > 0) & (data.revenue > 0)
    orders = np.bincount(
        data.arm[has_both], weights=data.conversions[has_both], minlength=data.n_arms
    )
    revenue = np.bincount(data.arm[has_both], weights=data.revenue[has_both], minlength=data.n_arms)
    pooled = revenue.sum() / orders.sum() if orders.sum() > 0 else 1.0
    a0, b0 = 1.0, k / pooled
    return a0 + k * orders, b0 + revenue, orders


def exact_rate_intervals(data: FunnelData, spec: ModelSpec) -> dict[str, list[Interval]]:
    """Exact means and HDIs of CTR and CVR per arm (no sampling)."""
    totals = data.totals()
    a, b = spec.priors.beta_a, spec.priors.beta_b
    out: dict[str, list[Interval]] = {}
    for metric, (hits, tries) in {
        "ctr": (totals.clicks, totals.impressions),
        "cvr": (totals.converted_clicks, totals.clicks),
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
        *beta_posterior(totals.converted_clicks, totals.clicks, a, b), size=(n_draws, data.n_arms)
    )
    shape, rate, _ = order_value_posterior(data, spec)
    beta_rate = rng.gamma(shape, 1.0 / rate, size=(n_draws, data.n_arms))
    per_conversion = spec.priors.order_value_shape / beta_rate
    undefined = undefined_for(data)
    draws = _derived(ctr, cvr, per_conversion, totals.impressions_per_spend, undefined)
    return Posterior(
        method="exact",
        spec=spec,
        arms=data.arms,
        data_digest=data.digest(),
        draws=draws,
        undefined=undefined,
        notes=_data_notes(data),
        seconds=time.perf_counter() - started,
        seed=seed,
    )


def undefined_for(data: FunnelData) -> dict[str, dict[int, str]]:
    """Per metric, the arms whose data cannot say anything about it yet, and why."""
    totals = data.totals()
    orders, _ = data.order_totals()
    undefined: dict[str, dict[int, str]] = {}
    for metric, empty, reason in (
        ("ctr", totals.impressions == 0, "no impressions yet"),
        ("cvr", totals.clicks == 0, "no clicks yet"),
        ("revenue_per_conversion", orders == 0, "no orders with revenue yet"),
    ):
        for arm in np.flatnonzero(empty):
            undefined.setdefault(metric, {})[int(arm)] = reason
    return undefined


def _derived(ctr, cvr, per_conversion, impressions_per_spend, undefined) -> dict[str, np.ndarray]:
    """ROAS, CPA and revenue per impression from the funnel stages (shared with MCMC).

    Columns of undefined arms are set to NaN; ``undefined`` gains the derived metrics.
    """
    for stage in ("ctr", "cvr"):
        for arm, reason in undefined.get(stage, {}).items():
            for derived in ("roas", "cpa", "revenue_per_impression"):
                undefined.setdefault(derived, {}).setdefault(arm, reason)
    no_spend = ~np.isfinite(impressions_per_spend)
    for arm in np.flatnonzero(no_spend):
        for metric in ("roas", "cpa"):
            undefined.setdefault(metric, {})[int(arm)] = "no spend yet"
    for arm, reason in undefined.get("revenue_per_conversion", {}).items():
        for metric in ("roas", "revenue_per_impression"):
            undefined.setdefault(metric, {}).setdefault(arm, reason)
    conversions_per_spend = impressions_per_spend * ctr * cvr
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = {
            "ctr": ctr,
            "cvr": cvr,
            "revenue_per_conversion": per_conversion,
            "revenue_per_impression": ctr * cvr * per_conversion,
            "roas": conversions_per_spend * per_conversion,
            "cpa": 1.0 / conversions_per_spend,
        }
    for metric, arms in undefined.items():
        draws[metric] = draws[metric].copy()
        draws[metric][:, list(arms)] = np.nan
    return draws


def _data_notes(data: FunnelData) -> tuple[str, ...]:
    notes = []
    if data.view_through_excess:
        notes.append(
            f"{data.view_through_excess} conversions exceed clicks on their day "
            "(view-through); the conversion rate counts at most one per click"
        )
    return tuple(notes)
