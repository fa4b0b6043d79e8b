"""Diminishing returns: how an arm's conversions grow with its daily spend.

When an arm has run at several daily spend levels (budget steps), its daily conversions
follow a saturating (Michaelis–Menten) curve in spend s:

    mu(s) = m0 * x (1 + k) / (k + x),     x = s / s0,     k = e / (1 - e),

where s0 is the current daily spend (the last level), m0 the expected conversions a day at
s0 and e the **elasticity at s0** (d log mu / d log s there: 1 proportional, 0 saturated;
k is the half-saturation spend in units of s0). Each conversion brings an order value v,
so revenue is v mu(s) and the **marginal ROAS** (revenue from the next unit of spend) is

    dR/ds = v m0 (1 + k) k / (s0 (k + x)^2),   at s0:  e * (v m0 / s0),

the elasticity times today's average ROAS. It falls below break-even b at the spend x* s0
where (k + x*)^2 = v m0 (1 + k) k / (s0 b).

Likelihood: daily conversions ~ NegativeBinomial(mu(s), alpha = 1 / cv^2) (days vary more
than Poisson, by a day-to-day coefficient of variation cv); revenue on days with
conversions ~ Gamma(shape = a n, rate = a / v) for n conversions (the funnel model's order
values).

Priors, on the arm's own axes (``SaturationPriors`` holds the numbers):

* m0 ~ LogNormal(log(mean conversions a day at today's level), 1): the arm's own level;
* e ~ Beta(1, 1): the marginal ROAS at s0 is uniform between 0 and today's average ROAS;
* cv ~ HalfNormal(0.25): day-to-day variation beyond Poisson, Poisson included;
* v ~ LogNormal(log(the arm's mean order value), 1), a ~ Gamma(2, 1).

Why these. A ladder of three levels identifies today's level and average ROAS well but
the elasticity only loosely: 7 days a level at 15 conversions a day leave e with a
standard error of about 0.2 (its likelihood is flat towards e = 0). Earlier priors,
k ~ LogNormal(log 2, 1.5) on a fixed axis and alpha ~ LogNormal(log 20, 1), put most
weight on e near 2/3 and on more day-to-day variation than the data showed, so every
curve's marginal ROAS was drawn towards two thirds of its average ROAS. A flat prior on
the quantity the ladder informs leaves the data in charge; the posterior median (not the
mean, skewed by the loose elasticity) is what the simulation tests hold to the truth.

The specification (:class:`SaturationPriors`, :class:`SpendLadder`) knows nothing of PyMC;
:func:`build_saturation_model` translates it into PyMC, and :func:`fit_saturation` samples
the same density written out by hand (``inference.curve.kernel``, compiled once per
machine and tested equal to PyMC's) with nutpie, so no arm waits for a compile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from inference.summary import Interval, hdi

__all__ = [
    "ResponseCurve",
    "SaturationPriors",
    "SpendLadder",
    "build_saturation_model",
    "fit_saturation",
    "marginal_roas",
    "spend_levels",
]

LEVEL_TOLERANCE = 0.15  # days within 15 % of a level's spend belong to it
MIN_DAYS_PER_LEVEL = 3
MIN_LEVEL_RATIO = 1.3  # the highest level must be this much above the lowest
STEP = 1.5  # the next step considered: 50 % more daily spend
STEP_CONFIDENCE = 0.8


@dataclass(frozen=True)
class SaturationPriors:
    """The curve's priors (see the module docstring); centres come from the arm's data."""

    level_log_sd: float = 1.0  # log m0 around log(today's conversions a day)
    elasticity_a: float = 1.0  # e ~ Beta(a, b), the elasticity at today's spend
    elasticity_b: float = 1.0
    day_cv_scale: float = 0.25  # cv ~ HalfNormal(scale), alpha = 1 / cv^2
    order_value_log_sd: float = 1.0  # log v around log(the arm's mean order value)
    order_value_shape_a: float = 2.0  # a ~ Gamma(shape, rate)
    order_value_shape_b: float = 1.0


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


def marginal_roas(spend, order_value, m0, k, s0):
    """dR/ds at daily ``spend`` (broadcasts over draws)."""
    x = np.asarray(spend, dtype=float) / s0
    return order_value * m0 * (1 + k) * k / (s0 * (k + x) ** 2)


def break_even_spend(order_value, m0, k, s0, break_even):
    """Daily spend at which the marginal ROAS equals ``break_even`` (0 if never above)."""
    x = np.sqrt(order_value * m0 * (1 + k) * k / (s0 * break_even)) - k
    return np.maximum(x, 0.0) * s0


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


def build_saturation_model(ladder: SpendLadder, priors: SaturationPriors | None = None):
    """The PyMC model for one arm's ladder (named coords: day)."""
    import pymc as pm
    import pytensor.tensor as pt

    priors = priors or SaturationPriors()
    values = model_values(ladder)
    coords = {"day": np.arange(len(values["x"]))}
    with pm.Model(coords=coords) as model:
        x = pm.Data("x", values["x"], dims="day")
        conversions = pm.Data("conversions", values["conversions"], dims="day")
        revenue = pm.Data("revenue", values["revenue"], dims="day")
        has_orders = pm.Data("has_orders", values["has_orders"], dims="day")
        # Priors centre on this arm's own level and order value; as data, so a compiled
        # model serves every arm with the same number of days.
        log_level = pm.Data("log_level", values["log_level"])
        log_value = pm.Data("log_value", values["log_value"])
        m0 = pm.LogNormal("m0", mu=log_level, sigma=priors.level_log_sd)
        e = pm.Beta("elasticity", alpha=priors.elasticity_a, beta=priors.elasticity_b)
        k = pm.Deterministic("k", e / (1 - e))
        cv = pm.HalfNormal("day_cv", sigma=priors.day_cv_scale)
        alpha = pm.Deterministic("alpha", 1 / cv**2)
        mu = m0 * x * (1 + k) / (k + x)
        pm.NegativeBinomial("conversions_obs", mu=mu, alpha=alpha, observed=conversions)
        v = pm.LogNormal("order_value", mu=log_value, sigma=priors.order_value_log_sd)
        shape = pm.Gamma(
            "order_value_shape", alpha=priors.order_value_shape_a, beta=priors.order_value_shape_b
        )
        n = pt.maximum(conversions, 1)
        revenue_logp = pm.logp(pm.Gamma.dist(alpha=shape * n, beta=shape / v), revenue)
        pm.Potential("revenue_obs", (revenue_logp * has_orders).sum())
    return model


@dataclass(frozen=True)
class ResponseCurve:
    """What the curve says at today's spend and one step up; neutral with a reason when
    it cannot be fitted."""

    current_spend: float
    marginal_now: Interval
    p_now_above_break_even: float | None
    break_even_spend: Interval
    next_spend: float
    marginal_next: Interval
    p_next_above_break_even: float | None
    advice: str
    reliable: bool = True
    reasons: tuple[str, ...] = ()
    curve: tuple[tuple[float, float, float, float], ...] = field(default=())  # s, mean, lo, hi
    # Posterior medians (the elasticity's draws are skewed, so the median is the point
    # estimate the recovery tests hold to the truth) and the elasticity at today's spend.
    marginal_now_median: float = math.nan
    marginal_next_median: float = math.nan
    elasticity: Interval = field(default_factory=lambda: Interval(math.nan, math.nan, math.nan))
    break_even_spend_median: float = math.nan

    def as_dict(self) -> dict:
        return {
            "current_daily_spend": round(self.current_spend, 2),
            "marginal_roas": self.marginal_now.as_dict(),
            "p_marginal_above_break_even": _round(self.p_now_above_break_even),
            "break_even_daily_spend": self.break_even_spend.as_dict(),
            "next_daily_spend": round(self.next_spend, 2),
            "marginal_roas_next": self.marginal_next.as_dict(),
            "p_next_above_break_even": _round(self.p_next_above_break_even),
            "advice": self.advice,
            "reliable": self.reliable,
            "reasons": list(self.reasons),
            "marginal_roas_median": _round(_finite(self.marginal_now_median)),
            "marginal_roas_next_median": _round(_finite(self.marginal_next_median)),
            "elasticity": self.elasticity.as_dict(),
            "break_even_daily_spend_median": _round(_finite(self.break_even_spend_median)),
        }


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def _interval(draws: np.ndarray, prob: float) -> Interval:
    low, high = hdi(draws, prob)
    return Interval(float(draws.mean()), float(low), float(high))


def neutral_curve(ladder: SpendLadder, reason: str) -> ResponseCurve:
    none = Interval(math.nan, math.nan, math.nan, reason)
    s0 = float(np.median(ladder.spend)) if len(ladder.spend) else 0.0
    return ResponseCurve(
        s0, none, None, none, s0 * STEP, none, None, f"No curve yet: {reason}.", elasticity=none
    )


def fit_saturation(
    ladder: SpendLadder,
    break_even: float,
    *,
    seed: int = 0,
    priors: SaturationPriors | None = None,
    draws: int = 2000,
    tune: int = 1000,
    chains: int = 2,
    hdi_prob: float = 0.94,
) -> ResponseCurve:
    """Fit the curve for one arm and read off marginal ROAS now and one step up."""
    reason = ladder_reason(ladder)
    if reason is None and not (math.isfinite(break_even) and break_even > 0):
        reason = "the break-even ROAS is not a positive number"
    if reason:
        return neutral_curve(ladder, reason)
    import nutpie

    from inference.curve.kernel import curve_floats, curve_start
    from inference.diagnostics import convergence
    from inference.funnel.sampler import curve_sampler_model

    priors = priors or SaturationPriors()
    values = model_values(ladder)
    floats = curve_floats(float(values["log_level"]), float(values["log_value"]), priors)
    start = curve_start(floats)
    model = curve_sampler_model(
        floats, values["x"], values["conversions"], values["revenue"], values["has_orders"], start
    )
    trace = nutpie.sample(
        model,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        target_accept=0.95,
        progress_bar=False,
    )
    post = trace.posterior
    stacked = {
        name: post[name].values.reshape(-1) for name in ("m0", "k", "order_value", "elasticity")
    }
    s0 = ladder.current_spend
    step = s0 * STEP
    now = marginal_roas(s0, stacked["order_value"], stacked["m0"], stacked["k"], s0)
    nxt = marginal_roas(step, stacked["order_value"], stacked["m0"], stacked["k"], s0)
    be = break_even_spend(stacked["order_value"], stacked["m0"], stacked["k"], s0, break_even)
    per_chain = np.stack([now.reshape(chains, -1), nxt.reshape(chains, -1)])
    r_hat, bulk, tail = convergence(per_chain)
    divergences = int(trace.sample_stats["diverging"].sum())
    reasons = []
    if np.nanmax(r_hat) > 1.01:
        reasons.append(f"R-hat {np.nanmax(r_hat):.3f} is above 1.01")
    if min(np.nanmin(bulk), np.nanmin(tail)) < 400:
        reasons.append(f"ESS {min(np.nanmin(bulk), np.nanmin(tail)):.0f} is below 400")
    if divergences:
        reasons.append(f"{divergences} divergent transitions")
    p_now = float((now > break_even).mean())
    p_next = float((nxt > break_even).mean())
    grid = np.linspace(0.25, 2.0, 15) * s0
    curve = tuple((float(s), *_curve_point(stacked, s, s0, hdi_prob)) for s in grid)
    marginal_next = _interval(nxt, hdi_prob)
    nxt_median = float(np.median(nxt))
    advice = _advice(
        s0, step, p_now, p_next, (nxt_median, marginal_next), _interval(be, hdi_prob), break_even
    )
    return ResponseCurve(
        current_spend=s0,
        marginal_now=_interval(now, hdi_prob),
        p_now_above_break_even=p_now,
        break_even_spend=_interval(be, hdi_prob),
        next_spend=step,
        marginal_next=marginal_next,
        p_next_above_break_even=p_next,
        advice=advice if not reasons else "The curve fit is unreliable; do not act on it.",
        reliable=not reasons,
        reasons=tuple(reasons),
        curve=curve,
        marginal_now_median=float(np.median(now)),
        marginal_next_median=nxt_median,
        elasticity=_interval(stacked["elasticity"], hdi_prob),
        break_even_spend_median=float(np.median(be)),
    )


def _curve_point(stacked, s, s0, prob) -> tuple[float, float, float]:
    m = marginal_roas(s, stacked["order_value"], stacked["m0"], stacked["k"], s0)
    low, high = hdi(m, prob)
    return float(m.mean()), float(low), float(high)


def _advice(s0, step, p_now, p_next, nxt_median_hdi, be: Interval, break_even) -> str:
    median, nxt = nxt_median_hdi
    if p_next >= STEP_CONFIDENCE:
        return (
            f"Raise daily spend from {s0:,.0f} to {step:,.0f}: marginal ROAS at {step:,.0f} is "
            f"{median:.2f} ({nxt.low:.2f}–{nxt.high:.2f}), above break-even {break_even:g} "
            f"with {p_next:.0%} probability."
        )
    if p_now < 1 - STEP_CONFIDENCE:
        return (
            f"Lower daily spend from {s0:,.0f}: the last unit spent returns below break-even "
            f"{break_even:g} with {1 - p_now:.0%} probability; the break-even level is about "
            f"{be.mean:,.0f} ({be.low:,.0f}–{be.high:,.0f})."
        )
    return (
        f"Hold daily spend at {s0:,.0f}: one step up to {step:,.0f} returns above break-even "
        f"{break_even:g} with only {p_next:.0%} probability."
    )
