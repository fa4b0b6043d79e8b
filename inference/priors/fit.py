"""Priors learned from past trials, by empirical Bayes (pure maths; imports nothing of ours).

Rates (CTR, CVR). Each past arm's true rate is a draw from a Beta(a, b) shared by its
channel; its counts are binomial given the rate, so an arm's (n, k) has the beta-binomial
marginal likelihood. The Beta's mean and concentration a + b are fitted by maximising
that marginal likelihood over the arms (never by pooling counts: pooled counts would make
the prior as strong as every past click, which is wrong when trials differ). The learned
prior is the fitted Beta itself: the predictive distribution of a new arm's rate.

Money (order value, cost per click). Each past trial's mean (revenue per conversion, or
spend per click) is log-normal around a channel-level centre; the centre and the spread
between trials are the weighted mean and standard deviation of the trials' log means,
weighted by conversions (clicks for cost per click). Money is never pooled across
currencies: callers pass one currency's trials.

Strength. A prior's effective sample size (ESS) is what it is worth in counts: a + b
for a Beta (clicks for CVR, impressions for CTR); for an order value, the conversions
whose mean would be as precise (``ORDER_LOG_SD``² / spread²). **A learned prior is never
stronger than the data it was learned from**: its ESS is capped at the median count per
past trial (so also never above the total), and with one or two past trials at
``FEW_TRIALS_EVENTS`` expected events (conversions for CVR, clicks for CTR). Capping keeps
the mean and widens the spread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "FEW_TRIALS",
    "FEW_TRIALS_EVENTS",
    "ORDER_LOG_SD",
    "BetaPrior",
    "Counts",
    "LogNormalPrior",
    "Means",
    "beta_binomial_logpmf",
    "beta_logit_normal",
    "fit_beta_prior",
    "fit_lognormal_prior",
    "shrunk_log_mean",
    "shrunk_rate",
]

FEW_TRIALS = 3  # fewer past trials than this: the prior is kept weak
FEW_TRIALS_EVENTS = 2.0  # … worth at most about two expected events
# Single orders vary around an arm's mean order value by about ±70 % (the funnel model's
# prior, ``Priors.order_value_cv``): on the log scale, sd = sqrt(log(1 + 0.7²)).
ORDER_LOG_SD = math.sqrt(math.log1p(0.7**2))
MAX_CONCENTRATION = 1e8  # a + b is searched up to here (no visible spread between trials)
INTERVAL = 0.90


@dataclass(frozen=True)
class Counts:
    """One past arm: ``n`` trials (impressions or clicks), ``k`` successes, from ``trial``."""

    trial: str
    n: int
    k: int


@dataclass(frozen=True)
class Means:
    """One past trial's mean money figure (``value``) over ``weight`` units (conversions
    for an order value, clicks for a cost per click)."""

    trial: str
    value: float
    weight: float


@dataclass(frozen=True)
class BetaPrior:
    """A learned Beta(a, b) for a new arm's rate, and how it was learned."""

    a: float
    b: float
    trials: int
    arms: int
    total: int  # the count the data hold (clicks or impressions, summed)
    median_per_trial: float
    fitted_concentration: float  # a + b as fitted, before any cap
    spread: float  # sd of the rate between trials, as fitted (before any cap)
    capped: str | None  # why the ESS was lowered, or None

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def ess(self) -> float:
        return self.a + self.b

    def interval(self, prob: float = INTERVAL) -> tuple[float, float]:
        tail = (1 - prob) / 2
        lo, hi = stats.beta.ppf([tail, 1 - tail], self.a, self.b)
        return float(lo), float(hi)


@dataclass(frozen=True)
class LogNormalPrior:
    """A learned log-normal for a new trial's mean money figure."""

    log_mean: float
    log_sd: float  # predictive sd on the log scale (spread between trials, after any cap)
    trials: int
    total: float  # conversions (or clicks) behind it
    median_per_trial: float
    fitted_log_sd: float | None  # spread between trials as estimated (None: one trial)
    ess: float | None  # conversions' worth (order values); None for a cost per click
    capped: str | None

    @property
    def median(self) -> float:
        return math.exp(self.log_mean)

    @property
    def mean(self) -> float:
        return math.exp(self.log_mean + self.log_sd**2 / 2)

    def interval(self, prob: float = INTERVAL) -> tuple[float, float]:
        z = stats.norm.ppf(0.5 + prob / 2)
        return math.exp(self.log_mean - z * self.log_sd), math.exp(self.log_mean + z * self.log_sd)


def beta_binomial_logpmf(k, n, a: float, b: float):
    """log P(k | n, a, b) of the beta-binomial (vectorised)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    log_choose = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    return log_choose + special.betaln(k + a, n - k + b) - special.betaln(a, b)


def _neg_loglik(theta: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    mu = special.expit(theta[0])
    phi = math.exp(theta[1])
    a, b = max(mu * phi, 1e-300), max((1 - mu) * phi, 1e-300)
    return -float(np.sum(special.betaln(k + a, n - k + b) - special.betaln(a, b)))


def _fit_mu_phi(k: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Maximum marginal likelihood mean and concentration of a Beta behind (n, k) pairs."""
    pooled = (k.sum() + 0.5) / (n.sum() + 1.0)
    rates = (k + 0.5) / (n + 1.0)
    var = float(np.var(rates)) if len(rates) > 1 else 0.0
    binomial = float(np.mean(pooled * (1 - pooled) / n))
    between = var - binomial
    phi0 = pooled * (1 - pooled) / between - 1 if between > 0 else 1e4
    phi0 = min(max(phi0, 1.0), MAX_CONCENTRATION / 10)
    start = np.array([special.logit(pooled), math.log(phi0)])
    bounds = [(-25.0, 25.0), (math.log(1e-2), math.log(MAX_CONCENTRATION))]
    best = None
    for s in (start, np.array([start[0], math.log(10.0)]), np.array([start[0], math.log(1e6)])):
        res = optimize.minimize(_neg_loglik, s, args=(k, n), method="L-BFGS-B", bounds=bounds)
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    return float(special.expit(best.x[0])), float(math.exp(best.x[1]))


def fit_beta_prior(arms: Sequence[Counts]) -> BetaPrior | None:
    """The learned Beta for a new arm's rate from past arms; None without data.

    ``arms`` with ``n == 0`` are ignored. The ESS cap: the median count per past trial
    (hence never above the total) and, with fewer than ``FEW_TRIALS`` trials, about
    ``FEW_TRIALS_EVENTS`` expected events.
    """
    arms = [c for c in arms if c.n > 0]
    if not arms:
        return None
    k = np.array([min(max(c.k, 0), c.n) for c in arms], dtype=float)
    n = np.array([c.n for c in arms], dtype=float)
    per_trial: dict[str, int] = {}
    for c in arms:
        per_trial[c.trial] = per_trial.get(c.trial, 0) + c.n
    trials = len(per_trial)
    median = float(np.median(list(per_trial.values())))
    total = int(n.sum())
    mu, phi = _fit_mu_phi(k, n)
    cap, why = phi, None
    if median < cap:
        cap, why = median, "at most the median count of one past trial"
    if trials < FEW_TRIALS:
        weak = FEW_TRIALS_EVENTS / min(mu, 1 - mu)
        if weak < cap:
            cap = weak
            why = (
                f"only {trials} past trial{'s' if trials > 1 else ''}: kept weak, worth "
                f"about {FEW_TRIALS_EVENTS:g} expected events"
            )
    cap = min(cap, float(total))
    return BetaPrior(
        a=mu * cap,
        b=(1 - mu) * cap,
        trials=trials,
        arms=len(arms),
        total=total,
        median_per_trial=median,
        fitted_concentration=phi,
        spread=math.sqrt(mu * (1 - mu) / (phi + 1)),
        capped=why,
    )


def fit_lognormal_prior(
    means: Sequence[Means], *, unit_log_sd: float | None = ORDER_LOG_SD, default_log_sd: float = 1.0
) -> LogNormalPrior | None:
    """A log-normal for a new trial's mean money figure from past trials' means.

    Centre and spread are the ``weight``-weighted mean and standard deviation of the log
    means (reliability weights, so a spread is unbiased for equal weights). With one trial
    the spread is ``default_log_sd``; with fewer than ``FEW_TRIALS`` it is at least that.
    With ``unit_log_sd`` (the sd of one unit's log value: one order's), the prior's ESS
    is ``unit_log_sd² / sd²`` units, capped at the median weight per trial.
    """
    means = [m for m in means if m.weight > 0 and m.value > 0 and math.isfinite(m.value)]
    if not means:
        return None
    x = np.log([m.value for m in means])
    w = np.array([m.weight for m in means], dtype=float)
    centre = float(np.sum(w * x) / w.sum())
    fitted = None
    if len(means) > 1:
        v1, v2 = w.sum(), np.sum(w**2)
        fitted = math.sqrt(float(np.sum(w * (x - centre) ** 2)) / (v1 - v2 / v1))
    median = float(np.median(w))
    sd, why = (fitted if fitted is not None else default_log_sd), None
    if len(means) < FEW_TRIALS and sd < default_log_sd:
        sd = default_log_sd
        why = f"only {len(means)} past trial{'s' if len(means) > 1 else ''}: kept weak"
    ess = None
    if unit_log_sd is not None:
        floor = unit_log_sd / math.sqrt(max(median, 1.0))
        if sd < floor:
            sd, why = floor, "at most the median count of one past trial"
        ess = (unit_log_sd / sd) ** 2
    return LogNormalPrior(
        log_mean=centre,
        log_sd=sd,
        trials=len(means),
        total=float(w.sum()),
        median_per_trial=median,
        fitted_log_sd=fitted,
        ess=ess,
        capped=why,
    )


def shrunk_rate(k: float, n: float, prior: BetaPrior | None) -> float:
    """Posterior mean rate from ``k`` of ``n`` under the prior (Beta(1, 1) without one)."""
    a, b = (prior.a, prior.b) if prior is not None else (1.0, 1.0)
    return (k + a) / (n + a + b)


def shrunk_log_mean(
    value: float, weight: float, prior: LogNormalPrior | None, unit_log_sd: float = ORDER_LOG_SD
) -> float:
    """A trial's mean money figure shrunk towards the prior (precision-weighted on the log
    scale); the raw value without a prior or without data."""
    if prior is None or weight <= 0 or value <= 0:
        return value
    data_precision = weight / unit_log_sd**2
    prior_precision = 1 / prior.log_sd**2
    log_value = (data_precision * math.log(value) + prior_precision * prior.log_mean) / (
        data_precision + prior_precision
    )
    return math.exp(log_value)


def beta_logit_normal(a: float, b: float) -> tuple[float, float]:
    """The normal on the logit scale with a Beta(a, b)'s moments of logit(rate):
    (digamma(a) − digamma(b), sqrt(trigamma(a) + trigamma(b)))."""
    centre = float(special.digamma(a) - special.digamma(b))
    sd = math.sqrt(float(special.polygamma(1, a) + special.polygamma(1, b)))
    return centre, sd
