"""Fitting one arm's response curve with nutpie on the hand-written kernel, and what it
says at today's spend and one step up: marginal ROAS, the break-even spend and advice."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from inference.curve.data import SpendLadder, ladder_reason
from inference.curve.spec import SaturationPriors
from inference.summary import Interval, hdi

__all__ = [
    "STEP",
    "STEP_CONFIDENCE",
    "CurveDraws",
    "ResponseCurve",
    "break_even_spend",
    "daily_conversions",
    "fit_saturation",
    "marginal_roas",
    "neutral_curve",
]

STEP = 1.5  # the next step considered: 50 % more daily spend
STEP_CONFIDENCE = 0.8


def daily_conversions(spend, m0, k, s0):
    """mu(s): expected conversions a day at daily ``spend`` (broadcasts over draws); the
    curve of ``inference.curve.spec``, whose derivative times the order value is
    :func:`marginal_roas`."""
    x = np.asarray(spend, dtype=float) / s0
    return m0 * x * (1 + k) / (k + x)


def marginal_roas(spend, order_value, m0, k, s0):
    """dR/ds at daily ``spend`` (broadcasts over draws)."""
    x = np.asarray(spend, dtype=float) / s0
    return order_value * m0 * (1 + k) * k / (s0 * (k + x) ** 2)


def break_even_spend(order_value, m0, k, s0, break_even):
    """Daily spend at which the marginal ROAS equals ``break_even`` (0 if never above)."""
    x = np.sqrt(order_value * m0 * (1 + k) * k / (s0 * break_even)) - k
    return np.maximum(x, 0.0) * s0


@dataclass(frozen=True, eq=False)
class CurveDraws:
    """The fitted curve's posterior draws (one value per draw in each array), at today's
    daily spend ``s0``: what a simulation at another spend draws from."""

    s0: float
    m0: np.ndarray  # expected conversions a day at s0
    k: np.ndarray  # half-saturation spend in units of s0
    order_value: np.ndarray
    day_cv: np.ndarray  # day-to-day variation beyond Poisson (alpha = 1 / cv^2)
    order_value_shape: np.ndarray  # a day's revenue from n orders ~ Gamma(a n, a / v)

    def marginal(self, spend: float) -> np.ndarray:
        """Draws of the marginal ROAS at daily ``spend`` (:func:`marginal_roas`)."""
        return marginal_roas(spend, self.order_value, self.m0, self.k, self.s0)

    def break_even_spend(self, break_even: float) -> np.ndarray:
        """Draws of the daily spend where the marginal ROAS falls to ``break_even``. The
        marginal ROAS falls with spend in every draw, so the median of these is where the
        posterior median marginal ROAS crosses ``break_even``."""
        return break_even_spend(self.order_value, self.m0, self.k, self.s0, break_even)


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
    # The posterior draws behind these figures (None for a neutral curve).
    draws: CurveDraws | None = field(default=None, compare=False, repr=False)

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
    trace = _sample(ladder, priors or SaturationPriors(), draws, tune, chains, seed)
    return _read_curve(trace, ladder.current_spend, break_even, chains, hdi_prob)


def _read_curve(trace, s0: float, break_even: float, chains: int, hdi_prob: float) -> ResponseCurve:
    """What a fitted ``trace`` says at today's daily spend ``s0`` and one step up (see
    :class:`ResponseCurve`), unreliable with its reasons when the fit fails its gates."""
    post = trace.posterior
    stacked = {
        name: post[name].values.reshape(-1)
        for name in ("m0", "k", "order_value", "elasticity", "day_cv", "order_value_shape")
    }
    step = s0 * STEP
    now = marginal_roas(s0, stacked["order_value"], stacked["m0"], stacked["k"], s0)
    nxt = marginal_roas(step, stacked["order_value"], stacked["m0"], stacked["k"], s0)
    be = break_even_spend(stacked["order_value"], stacked["m0"], stacked["k"], s0, break_even)
    reasons = _gate_reasons(trace, np.stack([now.reshape(chains, -1), nxt.reshape(chains, -1)]))
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
        draws=CurveDraws(
            s0=s0,
            m0=stacked["m0"],
            k=stacked["k"],
            order_value=stacked["order_value"],
            day_cv=stacked["day_cv"],
            order_value_shape=stacked["order_value_shape"],
        ),
    )


def _sample(ladder: SpendLadder, priors: SaturationPriors, draws, tune, chains, seed):
    from inference import nutpie_adapter
    from inference.curve.sampler import sampler_model

    return nutpie_adapter.sample(
        sampler_model(ladder, priors),
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        target_accept=0.95,
        progress_bar=False,
    )


def _gate_reasons(trace, per_chain: np.ndarray) -> list[str]:
    """Why the fit cannot be trusted (none when it can): the marginal ROAS now and one step
    up, per chain, must mix (R-hat, ESS) and no transition may diverge."""
    from inference.diagnostics import convergence

    r_hat, bulk, tail = convergence(per_chain)
    divergences = int(trace.sample_stats["diverging"].sum())
    reasons = []
    if np.nanmax(r_hat) > 1.01:
        reasons.append(f"R-hat {np.nanmax(r_hat):.3f} is above 1.01")
    if min(np.nanmin(bulk), np.nanmin(tail)) < 400:
        reasons.append(f"ESS {min(np.nanmin(bulk), np.nanmin(tail)):.0f} is below 400")
    if divergences:
        reasons.append(f"{divergences} divergent transitions")
    return reasons


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
