"""Budget ladders with a known Michaelis–Menten curve, and an independent reference
posterior (a grid, with scipy's densities) for the response-curve model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from inference.curve.data import SpendLadder, model_values
from inference.curve.fit import STEP
from inference.curve.spec import SaturationPriors

LADDER = (100.0, 150.0, 225.0)  # daily spend levels, in date order; today's is the last
DAY_CV = 0.1  # log-normal day effect on the conversion rate
ORDER_SHAPE = 2.5  # gamma-skewed order values


# Every prior number distinct and away from its default, so a swap shows.
ODD_PRIORS = SaturationPriors(
    level_log_sd=0.7,
    elasticity_a=1.6,
    elasticity_b=2.9,
    day_cv_scale=0.37,
    order_value_log_sd=1.3,
    order_value_shape_a=3.4,
    order_value_shape_b=0.45,
)


@dataclass(frozen=True)
class CurveTruth:
    """mu(s) = v_max s / (half + s), given by its elasticity and average ROAS at ``s0``."""

    elasticity: float  # d log mu / d log s at s0
    average_roas: float  # revenue per unit of spend at s0
    level: float  # conversions a day at s0
    s0: float = LADDER[-1]

    @property
    def half(self) -> float:
        return self.elasticity * self.s0 / (1 - self.elasticity)

    @property
    def v_max(self) -> float:
        return self.level * (self.half + self.s0) / self.s0

    @property
    def order_value(self) -> float:
        return self.average_roas * self.s0 / self.level

    def conversions(self, spend):
        return self.v_max * np.asarray(spend) / (self.half + np.asarray(spend))

    def marginal_roas(self, spend: float) -> float:
        return self.order_value * self.v_max * self.half / (self.half + spend) ** 2

    def break_even_spend(self, break_even: float) -> float:
        root = np.sqrt(self.order_value * self.v_max * self.half / break_even)
        return max(root - self.half, 0.0)


def simulate_ladder(rng, truth: CurveTruth, days_per_level: int = 7, ladder=LADDER):
    """A ladder's days: spend within ±3 % of plan, Poisson conversions with a log-normal
    day effect, gamma-skewed order values. Returns the ladder and the truth's marginal
    ROAS now and one step up (at the ladder's own current spend)."""
    n = len(ladder) * days_per_level
    spend = np.repeat(ladder, days_per_level) * rng.uniform(0.97, 1.03, n)
    mu = truth.conversions(spend) * rng.lognormal(-0.5 * DAY_CV**2, DAY_CV, n)
    conversions = rng.poisson(mu)
    scale = truth.order_value / ORDER_SHAPE
    revenue = np.array([rng.gamma(ORDER_SHAPE, scale, size=c).sum() for c in conversions])
    ladder_ = SpendLadder.of(spend, conversions, revenue)
    s0 = ladder_.current_spend
    return ladder_, truth.marginal_roas(s0), truth.marginal_roas(STEP * s0)


def grid_posterior(ladder: SpendLadder, priors: SaturationPriors, rng, draws=200_000):
    """Draws of (elasticity, marginal ROAS at today's spend) from the model's posterior
    on a grid, written independently of PyMC and the kernel with scipy's densities.

    The posterior factorises: (m0, e, cv) meet only the conversions, (v, a) only the
    revenue given the conversions. Each part is a grid over its unconstrained
    coordinates (log, log-odds), the prior's density there including the Jacobian.
    """
    values = model_values(ladder)
    x, y = values["x"], values["conversions"]
    log_level = float(values["log_level"])
    u = np.linspace(-8, 8, 161)  # log-odds of e
    lm = log_level + np.linspace(-0.8, 0.8, 61)  # log m0
    lc = np.linspace(np.log(0.003), np.log(1.5), 41)  # log cv
    e, k = stats.logistic.cdf(u), np.exp(u)
    lp = (stats.beta.logpdf(e, priors.elasticity_a, priors.elasticity_b) + np.log(e * (1 - e)))[
        :, None, None
    ]
    lp = lp + stats.norm.logpdf(lm, log_level, priors.level_log_sd)[None, :, None]
    cv = np.exp(lc)
    lp = lp + (stats.halfnorm.logpdf(cv, scale=priors.day_cv_scale) + lc)[None, None, :]
    alpha = 1 / cv**2
    mu = np.exp(lm)[None, :, None] * x * (1 + k[:, None, None]) / (k[:, None, None] + x)
    for j, a in enumerate(alpha):
        loglik = stats.nbinom.logpmf(y, a, a / (a + mu)).sum(axis=-1)
        lp[:, :, j] += loglik
    cells = _draw_cells(lp, rng, draws)
    steps = [g[1] - g[0] for g in (u, lm)]
    u_draw = u[cells[0]] + rng.uniform(-0.5, 0.5, draws) * steps[0]
    m0_draw = np.exp(lm[cells[1]] + rng.uniform(-0.5, 0.5, draws) * steps[1])

    orders = values["has_orders"] > 0
    n, r = y[orders], values["revenue"][orders]
    log_value = float(values["log_value"])
    lv = log_value + np.linspace(-0.5, 0.5, 81)
    ls = np.linspace(np.log(0.05), np.log(50), 81)
    shape = np.exp(ls)
    lp2 = (
        stats.norm.logpdf(lv, log_value, priors.order_value_log_sd)[:, None]
        + (
            stats.gamma.logpdf(
                shape, priors.order_value_shape_a, scale=1 / priors.order_value_shape_b
            )
            + ls
        )[None, :]
    )
    for i, value in enumerate(np.exp(lv)):
        lp2[i] += stats.gamma.logpdf(r[:, None], shape * n[:, None], scale=value / shape).sum(0)
    cells2 = _draw_cells(lp2, rng, draws)
    v_draw = np.exp(lv[cells2[0]] + rng.uniform(-0.5, 0.5, draws) * (lv[1] - lv[0]))
    e_draw = stats.logistic.cdf(u_draw)
    s0 = ladder.current_spend
    return e_draw, v_draw * m0_draw * e_draw / s0


def _draw_cells(lp, rng, draws):
    p = np.exp(lp - lp.max()).ravel()
    return np.unravel_index(rng.choice(p.size, draws, p=p / p.sum()), lp.shape)
