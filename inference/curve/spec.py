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
:func:`inference.curve.model.build_saturation_model` translates it into PyMC, and
:func:`inference.curve.fit.fit_saturation` samples the same density written out by hand
(``inference.curve.kernel``, compiled once per machine and tested equal to PyMC's) with
nutpie, so no arm waits for a compile.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PARAMETERS", "SaturationPriors"]

# The curve's free parameters, named as PyMC names its value variables, in the order of
# the kernel's unconstrained vector: the PyMC statement (``inference.curve.model``) and the
# kernel (``inference.curve.kernel``) both implement exactly these.
PARAMETERS = (
    "m0_log__",
    "elasticity_logodds__",
    "day_cv_log__",
    "order_value_log__",
    "order_value_shape_log__",
)


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
