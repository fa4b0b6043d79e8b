"""The response-curve model's log density and gradient, by hand, for the sampler.

``inference.saturation`` states the model in PyMC (``build_saturation_model``); this
module evaluates the same density up to a constant, compiled once per machine and cached
on disk like the funnel kernel, so a curve is fitted without compiling anything per arm
or per number of days. A test checks value and gradient against PyMC's.

Unconstrained parameters, as PyMC names them: ``m0_log__``, ``k_log__``, ``alpha_log__``,
``order_value_log__``, ``order_value_shape_log__``. With mu_d = m0 x_d (1 + k) / (k + x_d):

    y_d ~ NegativeBinomial(mu_d, alpha):
        lnG(y + alpha) - lnG(alpha) - alpha log1p(mu / alpha) + y log(mu / (mu + alpha))
    revenue_d ~ Gamma(s y_d, s / v) on days with orders
    log m0, log k, log alpha, log v ~ Normal(...);  s ~ Gamma(2, 1)
"""

from __future__ import annotations

import math

import numba
import numpy as np

from inference.special import lgamma_digamma, lgamma_ratio, normal_kernel

__all__ = ["EXPANDED", "PARAMETERS", "curve_expand", "curve_floats", "curve_log_density"]

PARAMETERS = (
    "m0_log__",
    "k_log__",
    "alpha_log__",
    "order_value_log__",
    "order_value_shape_log__",
)
EXPANDED = ("m0", "k", "alpha", "order_value", "order_value_shape")

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def curve_log_density(u, grad, floats, x, conversions, revenue, has_orders, log_revenue):
    """Log density at ``u`` (up to a constant); gradient into ``grad``.

    ``floats``: prior centre and sd of log m0, log k, log alpha and log v, in that order.
    """
    m0, k, alpha = math.exp(u[0]), math.exp(u[1]), math.exp(u[2])
    v, s = math.exp(u[3]), math.exp(u[4])
    lp = 0.0
    for i in range(4):
        lp += normal_kernel(u[i], floats[2 * i], floats[2 * i + 1])
        grad[i] = -(u[i] - floats[2 * i]) / (floats[2 * i + 1] * floats[2 * i + 1])
    lp += 2.0 * u[4] - s  # Gamma(2, 1) on s, with the log Jacobian
    grad[4] = 2.0 - s
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
    grad[2] += g_alpha * alpha
    grad[3] += g_v
    grad[4] += g_s * s
    return lp


@_jit
def curve_expand(u, out):
    for i in range(5):
        out[i] = math.exp(u[i])


def curve_floats(log_level: float, log_value: float, priors) -> np.ndarray:
    return np.array(
        [
            log_level,
            priors.level_log_sd,
            priors.half_saturation_log_median,
            priors.half_saturation_log_sd,
            priors.dispersion_log_median,
            priors.dispersion_log_sd,
            log_value,
            priors.order_value_log_sd,
        ]
    )
