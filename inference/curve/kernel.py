"""The response-curve model's log density and gradient, by hand, for the sampler.

``inference.curve.fit`` states the model in PyMC (``build_saturation_model``); this
module evaluates the same density up to a constant, compiled once per machine and cached
on disk like the funnel kernel, so a curve is fitted without compiling anything per arm
or per number of days. A test checks value and gradient against PyMC's, under varied
priors.

Unconstrained parameters, as PyMC names them: ``m0_log__``, ``elasticity_logodds__``,
``day_cv_log__``, ``order_value_log__``, ``order_value_shape_log__``. With the elasticity
e at today's spend, k = e / (1 - e) (so log k = logit e), alpha = 1 / cv^2 and
mu_d = m0 x_d (1 + k) / (k + x_d):

    y_d ~ NegativeBinomial(mu_d, alpha):
        lnG(y + alpha) - lnG(alpha) - alpha log1p(mu / alpha) + y log(mu / (mu + alpha))
    revenue_d ~ Gamma(s y_d, s / v) on days with orders
    log m0, log v ~ Normal(...);  e ~ Beta(a_e, b_e);  cv ~ HalfNormal(c);  s ~ Gamma(a_s, b_s)
"""

from __future__ import annotations

import math

import numba
import numpy as np

from inference.special import lgamma_digamma, lgamma_ratio, log_sigmoid, normal_kernel

__all__ = [
    "EXPANDED",
    "FLOATS",
    "PARAMETERS",
    "curve_expand",
    "curve_floats",
    "curve_log_density",
    "curve_start",
]

PARAMETERS = (
    "m0_log__",
    "elasticity_logodds__",
    "day_cv_log__",
    "order_value_log__",
    "order_value_shape_log__",
)
EXPANDED = ("m0", "elasticity", "day_cv", "order_value", "order_value_shape", "k", "alpha")
# The order of ``floats``: the arm's own centres, then SaturationPriors' numbers.
FLOATS = (
    "log_level",
    "level_log_sd",
    "elasticity_a",
    "elasticity_b",
    "day_cv_scale",
    "log_value",
    "order_value_log_sd",
    "order_value_shape_a",
    "order_value_shape_b",
)

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def curve_log_density(u, grad, floats, x, conversions, revenue, has_orders, log_revenue):
    """Log density at ``u`` (up to a constant); gradient into ``grad``.

    ``floats``: the numbers named in ``FLOATS``, in that order.
    """
    m0, k, cv = math.exp(u[0]), math.exp(u[1]), math.exp(u[2])
    v, s = math.exp(u[3]), math.exp(u[4])
    alpha = math.exp(-2.0 * u[2])
    e_a, e_b, cv_scale = floats[2], floats[3], floats[4]
    s_a, s_b = floats[7], floats[8]
    # log m0 and log v: normal.
    lp = normal_kernel(u[0], floats[0], floats[1]) + normal_kernel(u[3], floats[5], floats[6])
    grad[0] = -(u[0] - floats[0]) / (floats[1] * floats[1])
    grad[3] = -(u[3] - floats[5]) / (floats[6] * floats[6])
    # e ~ Beta(a, b) on its log-odds u[1], with the log Jacobian e (1 - e).
    lp += e_a * log_sigmoid(u[1]) + e_b * log_sigmoid(-u[1])
    e = k / (1.0 + k)
    grad[1] = e_a * (1.0 - e) - e_b * e
    # cv ~ HalfNormal(scale) on log cv, with the log Jacobian cv.
    z = cv / cv_scale
    lp += -0.5 * z * z + u[2]
    grad[2] = 1.0 - z * z
    # s ~ Gamma(a, b) on log s, with the log Jacobian s.
    lp += s_a * u[4] - s_b * s
    grad[4] = s_a - s_b * s
    lg_alpha, dg_alpha = lgamma_digamma(alpha)
    g_mu_m0, g_mu_k, g_alpha, g_v, g_s = 0.0, 0.0, 0.0, 0.0, 0.0
    for d in range(x.shape[0]):
        xd, y = x[d], conversions[d]
        mu = m0 * xd * (1.0 + k) / (k + xd)
        shrink = math.log1p(mu / alpha)
        lp -= alpha * shrink
        if y > 0:
            value, slope = lgamma_ratio(alpha, y, lg_alpha, dg_alpha)
            lp += value + y * (math.log(mu) - math.log(mu + alpha))
            g_alpha += slope
            d_mu = y / mu - (y + alpha) / (mu + alpha)
        else:
            d_mu = -alpha / (mu + alpha)
        g_alpha += -shrink + (mu - y) / (mu + alpha)
        g_mu_m0 += d_mu * mu
        g_mu_k += d_mu * m0 * xd * (xd - 1.0) / ((k + xd) * (k + xd))
        if has_orders[d] > 0:
            shape = s * y
            per_value = revenue[d] / v
            lg, dg = lgamma_digamma(shape)
            lp += shape * (u[4] - u[3]) - lg + (shape - 1.0) * log_revenue[d] - s * per_value
            g_v += s * (per_value - y)
            g_s += y * (u[4] - u[3] + 1.0 - dg + log_revenue[d]) - per_value
    grad[0] += g_mu_m0
    grad[1] += g_mu_k * k
    grad[2] += g_alpha * -2.0 * alpha
    grad[3] += g_v
    grad[4] += g_s * s
    return lp


@_jit
def curve_expand(u, out):
    """The draws as ``EXPANDED`` names them, from the unconstrained ``u``."""
    out[0] = math.exp(u[0])
    out[1] = 1.0 / (1.0 + math.exp(-u[1]))
    out[2] = math.exp(u[2])
    out[3] = math.exp(u[3])
    out[4] = math.exp(u[4])
    out[5] = math.exp(u[1])
    out[6] = math.exp(-2.0 * u[2])


def curve_floats(log_level: float, log_value: float, priors) -> np.ndarray:
    """The kernel's ``floats`` (see ``FLOATS``) for one arm under ``priors``."""
    return np.array(
        [
            log_level,
            priors.level_log_sd,
            priors.elasticity_a,
            priors.elasticity_b,
            priors.day_cv_scale,
            log_value,
            priors.order_value_log_sd,
            priors.order_value_shape_a,
            priors.order_value_shape_b,
        ],
        dtype=float,
    )


def curve_start(floats: np.ndarray) -> np.ndarray:
    """A starting point at the priors' centres (nutpie jitters it per chain)."""
    return np.array(
        [
            floats[0],
            math.log(floats[2] / floats[3]),  # the Beta's mean on the log-odds scale
            math.log(0.67 * floats[4]),  # the half-normal's median
            floats[5],
            math.log(floats[7] / floats[8]),
        ]
    )
