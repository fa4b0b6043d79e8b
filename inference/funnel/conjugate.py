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
impression follow from independent draws of these (``inference.funnel.derived``).

Every figure shown is exact for this model (no sampling error): means and HDIs of CTR and
CVR from the Beta closed form; P(best) and P(beats the control) on a rate by quadrature
(``inference.quadrature``, to 1e-9); ROAS, CPA and revenue from their whole distributions on
fine grids (``inference.funnel.exact``: means in closed form, HDI ends and probabilities within
0.05 % of the posterior sd). The draws kept on the ``Posterior`` only draw its density
charts.

It ignores day-to-day overdispersion and pooling, so it is overconfident with real daily
data (its intervals are too narrow, its P(best) too sure): a preview while the full model
fits, never a verdict, a recorded decision, a report or a budget split.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize, special

from inference.funnel.data import FunnelData
from inference.funnel.derived import conjugate_parameters, stage_posterior
from inference.funnel.exact import Distribution, metric_distributions
from inference.funnel.spec import ModelSpec
from inference.quadrature import beta_p_best, beta_p_greater
from inference.summary import METRICS, Interval, Posterior

__all__ = [
    "ExactComparison",
    "beta_hdi",
    "beta_posterior",
    "conjugate_draws",
    "exact_comparison",
    "exact_posterior",
    "exact_rate_intervals",
    "exact_stages",
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
    ppf = lambda q: special.betaincinv(alpha, beta, q)  # noqa: E731
    if alpha <= 1 and beta > 1:
        return 0.0, float(ppf(prob))
    if beta <= 1 and alpha > 1:
        return float(ppf(1 - prob)), 1.0
    if alpha <= 1 and beta <= 1:
        return float(ppf((1 - prob) / 2)), float(ppf((1 + prob) / 2))

    def log_pdf(x: float) -> float:
        return (alpha - 1) * math.log(x) + (beta - 1) * math.log1p(-x)

    def gap(q: float) -> float:
        return log_pdf(ppf(q)) - log_pdf(ppf(q + prob))

    q = optimize.brentq(gap, 1e-12, 1 - prob - 1e-12, xtol=1e-14)
    return float(ppf(q)), float(ppf(q + prob))


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
    """Independent conjugate posteriors per arm: exact intervals of every quantity
    (``Posterior.intervals``), and draws for charts."""
    return _exact(data, spec or ModelSpec(), seed, n_draws)[0]


def conjugate_draws(
    data: FunnelData,
    spec: ModelSpec | None = None,
    *,
    seed: int = 0,
    n_draws: int = DEFAULT_DRAWS,
) -> Posterior:
    """The exact path's seeded draws only (no grids, no exact intervals): a millisecond or
    two per trial, for sums over arms and trials, and for series over days. Its intervals
    are the draws' HDIs, so they carry Monte Carlo error (about 1 % of the posterior sd
    at 4,000 draws)."""
    return _draws(data, spec or ModelSpec(), seed, n_draws)[0]


def _draws(data, spec, seed, n_draws) -> tuple[Posterior, dict]:
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    stages = exact_stages(data, spec)
    size = (n_draws, data.n_arms)
    ctr = rng.beta(*np.transpose(stages["ctr"]), size=size)
    cvr = rng.beta(*np.transpose(stages["cvr"]), size=size)
    k, shape, rate = np.transpose(stages["order_value"])
    per_conversion = k / rng.gamma(shape, 1.0 / rate, size=size)
    posterior = stage_posterior(
        "exact", data, spec, ctr, cvr, per_conversion, seed=seed, started=started
    )
    return posterior, stages


def _exact(data, spec, seed, n_draws) -> tuple[Posterior, dict, dict]:
    started = time.perf_counter()
    posterior, stages = _draws(data, spec, seed, n_draws)
    derived = ("roas", "cpa", "revenue_per_impression", "revenue_per_conversion")
    wanted = [
        i
        for i in range(data.n_arms)
        if any(i not in posterior.undefined.get(m, {}) for m in derived)
    ]
    dists = metric_distributions(stages, wanted)
    rates = exact_rate_intervals(data, spec)
    means = _closed_form_means(stages)
    intervals = {}
    for metric in METRICS:
        row = []
        for arm in range(data.n_arms):
            reason = posterior.undefined.get(metric, {}).get(arm)
            if reason:
                row.append(Interval(math.nan, math.nan, math.nan, reason))
            elif metric in rates:
                row.append(rates[metric][arm])
            else:
                d = dists[metric][arm]
                mean = means.get(metric, {}).get(arm, d.mean)
                row.append(Interval(mean, *d.hdi(spec.hdi_prob)))
        intervals[metric] = tuple(row)
    posterior = replace(posterior, intervals=intervals, seconds=time.perf_counter() - started)
    return posterior, stages, dists


def exact_stages(data: FunnelData, spec: ModelSpec) -> dict:
    """Per arm, the conjugate posteriors' parameters (see ``metric_distributions``)."""
    totals = data.totals()
    a, b = spec.priors.beta_a, spec.priors.beta_b
    shape, rate, _ = order_value_posterior(data, spec)
    k = order_value_shape(spec)
    c = conjugate_parameters(data, spec)
    pair = lambda x, y: [(float(p), float(q)) for p, q in zip(x, y, strict=True)]  # noqa: E731
    return {
        "ctr": pair(*beta_posterior(totals.clicks, totals.impressions, a, b)),
        "cvr": pair(*beta_posterior(totals.converted_clicks, totals.paired_clicks, a, b)),
        "unpaired": pair(*c["unpaired"]),
        "paying": pair(*c["paying"]),
        "order_value": [(k, float(s), float(r)) for s, r in zip(shape, rate, strict=True)],
        "impressions_per_spend": [float(x) for x in c["impressions_per_spend"]],
        "paired_share": [float(x) for x in c["paired_share"]],
        "revenue_scale": [float(x) for x in c["revenue_scale"]],
    }


def _closed_form_means(stages: dict) -> dict[str, dict[int, float]]:
    """E[ROAS], E[revenue per impression] and E[revenue per conversion]: products of the
    independent factors' means (where the order value's mean exists)."""
    out: dict[str, dict[int, float]] = {
        "roas": {},
        "revenue_per_impression": {},
        "revenue_per_conversion": {},
    }
    for i, (k, shape, rate) in enumerate(stages["order_value"]):
        if shape <= 1:
            continue
        mean = lambda ab: ab[0] / (ab[0] + ab[1])  # noqa: E731
        u_shape, u_rate = stages["unpaired"][i]
        per_click = mean(stages["cvr"][i]) * stages["paired_share"][i] + u_shape / u_rate
        per_conversion = mean(stages["paying"][i]) * k * rate / (shape - 1)
        per_conversion *= stages["revenue_scale"][i]
        out["revenue_per_conversion"][i] = per_conversion
        out["revenue_per_impression"][i] = mean(stages["ctr"][i]) * per_click * per_conversion
        out["roas"][i] = out["revenue_per_impression"][i] * stages["impressions_per_spend"][i]
    return out


@dataclass(frozen=True)
class ExactComparison:
    """The arms on one metric, exactly: P(best), P(beats the control), P(ROAS above
    break-even); None where the arm's metric is undefined (or for the control itself)."""

    metric: str
    p_best: tuple[float | None, ...]
    p_beat_control: tuple[float | None, ...]
    p_above_break_even: tuple[float | None, ...]


def exact_comparison(
    data: FunnelData,
    spec: ModelSpec | None = None,
    *,
    metric: str,
    higher_is_better: bool = True,
    control: int | None = None,
    break_even: float | None = None,
    seed: int = 0,
) -> tuple[Posterior, ExactComparison]:
    """The exact posterior with the arms compared on ``metric`` (no sampling error)."""
    spec = spec or ModelSpec()
    posterior, stages, dists = _exact(data, spec, seed, DEFAULT_DRAWS)
    n = data.n_arms
    defined = [i for i in range(n) if i not in posterior.undefined.get(metric, {})]
    p_best: list[float | None] = [None] * n
    beat: list[float | None] = [None] * n
    if len(defined) >= 2:
        if metric in ("ctr", "cvr"):
            alpha, beta = np.transpose([stages[metric][i] for i in defined])
            best = beta_p_best(alpha, beta, higher_is_better)
            if control in defined:
                against = beta_p_greater(alpha, beta, defined.index(control), higher_is_better)
        else:
            shown = [dists[metric][i] for i in defined]
            best = _grid_p_best(shown, higher_is_better)
            if control in defined:
                against = _grid_p_beat(shown, defined.index(control), higher_is_better)
        for j, i in enumerate(defined):
            p_best[i] = float(best[j])
            if control in defined and i != control:
                beat[i] = float(against[j])
    elif len(defined) == 1:
        p_best[defined[0]] = 1.0
    above: list[float | None] = [None] * n
    for i in range(n):
        if break_even is not None and i not in posterior.undefined.get("roas", {}):
            above[i] = float(1.0 - dists["roas"][i].below(break_even))
    return posterior, ExactComparison(metric, tuple(p_best), tuple(beat), tuple(above))


def _grid_p_best(dists: list[Distribution], higher_is_better: bool) -> np.ndarray:
    """P(best) = sum_j P(X_a = x_j) prod_{b != a} P(X_b < x_j) on each arm's grid."""
    out = np.zeros(len(dists))
    for a, d in enumerate(dists):
        keep = d.masses > 1e-16
        x, m = d.values[keep], d.masses[keep]
        others = np.ones_like(x)
        for b, e in enumerate(dists):
            if b != a:
                below = e.below(x)
                others *= below if higher_is_better else 1.0 - below
        out[a] = m @ others
    return out


def _grid_p_beat(dists: list[Distribution], reference: int, higher_is_better: bool):
    ref = dists[reference]
    out = np.full(len(dists), 0.5)
    for a, d in enumerate(dists):
        if a != reference:
            above = d.masses @ ref.below(d.values)
            out[a] = above if higher_is_better else 1.0 - above
    return out
