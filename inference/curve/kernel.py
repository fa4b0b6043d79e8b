"""The response-curve model's log density and gradient, by hand, for the sampler.

``inference.curve.model`` states the model in PyMC (``build_saturation_model``); this
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

from inference.curve.layout import CurveFloat as F
from inference.curve.layout import Expanded as E
from inference.curve.layout import Parameter as P
from inference.special import lgamma_digamma, lgamma_ratio, log_sigmoid, normal_kernel

__all__ = ["curve_expand", "curve_log_density"]

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def curve_log_density(u, grad, data):
    """Log density at ``u`` (up to a constant); gradient into ``grad``. ``data``: the arm's
    ``CurveData`` (``inference.curve.layout``)."""
    floats, x, conversions = data.floats, data.x, data.conversions
    revenue, has_orders, log_revenue = data.revenue, data.has_orders, data.log_revenue
    log_m0, logit_e, log_cv = u[P.m0_log__], u[P.elasticity_logodds__], u[P.day_cv_log__]
    log_v, log_s = u[P.order_value_log__], u[P.order_value_shape_log__]
    m0, k, cv = math.exp(log_m0), math.exp(logit_e), math.exp(log_cv)
    v, s = math.exp(log_v), math.exp(log_s)
    alpha = math.exp(-2.0 * log_cv)
    e_a, e_b, cv_scale = floats[F.elasticity_a], floats[F.elasticity_b], floats[F.day_cv_scale]
    s_a, s_b = floats[F.order_value_shape_a], floats[F.order_value_shape_b]
    level, level_sd = floats[F.log_level], floats[F.level_log_sd]
    value_centre, value_sd = floats[F.log_value], floats[F.order_value_log_sd]
    # log m0 and log v: normal.
    lp = normal_kernel(log_m0, level, level_sd) + normal_kernel(log_v, value_centre, value_sd)
    grad[P.m0_log__] = -(log_m0 - level) / (level_sd * level_sd)
    grad[P.order_value_log__] = -(log_v - value_centre) / (value_sd * value_sd)
    # e ~ Beta(a, b) on its log-odds, with the log Jacobian e (1 - e).
    lp += e_a * log_sigmoid(logit_e) + e_b * log_sigmoid(-logit_e)
    e = k / (1.0 + k)
    grad[P.elasticity_logodds__] = e_a * (1.0 - e) - e_b * e
    # cv ~ HalfNormal(scale) on log cv, with the log Jacobian cv.
    z = cv / cv_scale
    lp += -0.5 * z * z + log_cv
    grad[P.day_cv_log__] = 1.0 - z * z
    # s ~ Gamma(a, b) on log s, with the log Jacobian s.
    lp += s_a * log_s - s_b * s
    grad[P.order_value_shape_log__] = s_a - s_b * s
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
            lp += shape * (log_s - log_v) - lg + (shape - 1.0) * log_revenue[d] - s * per_value
            g_v += s * (per_value - y)
            g_s += y * (log_s - log_v + 1.0 - dg + log_revenue[d]) - per_value
    grad[P.m0_log__] += g_mu_m0
    grad[P.elasticity_logodds__] += g_mu_k * k
    grad[P.day_cv_log__] += g_alpha * -2.0 * alpha
    grad[P.order_value_log__] += g_v
    grad[P.order_value_shape_log__] += g_s * s
    return lp


@_jit
def curve_expand(u, out):
    """The draws as ``EXPANDED`` names them, from the unconstrained ``u``."""
    out[E.m0] = math.exp(u[P.m0_log__])
    out[E.elasticity] = 1.0 / (1.0 + math.exp(-u[P.elasticity_logodds__]))
    out[E.day_cv] = math.exp(u[P.day_cv_log__])
    out[E.order_value] = math.exp(u[P.order_value_log__])
    out[E.order_value_shape] = math.exp(u[P.order_value_shape_log__])
    out[E.k] = math.exp(u[P.elasticity_logodds__])
    out[E.alpha] = math.exp(-2.0 * u[P.day_cv_log__])
