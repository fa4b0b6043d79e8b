"""The funnel model's log density and its gradient, written out by hand for the sampler.

``inference.funnel.model`` states the model in PyMC; this module evaluates the same density (the
same priors, transforms and likelihood terms, up to an additive constant) in a few numba
loops, so that:

* it compiles once per machine, not once per trial shape: the functions take arrays of
  any length and numba keeps the machine code on disk (``cache=True``), so a freshly
  started app loads it in a fraction of a second instead of compiling for 10-20 s;
* a gradient costs about half of the generated code's, partly because the special functions
  that cancel are never computed (a day with no conversions adds nothing to the
  beta-binomial's first term) and ``log Gamma`` and ``digamma`` share one series.

A test evaluates both this density and PyMC's at random points for every model structure
(pooling, overdispersion, centred or not, one or more channels, arms and revenue) and
checks they agree to rounding, gradients included.

The unconstrained parameters are laid out in blocks named like PyMC's value variables
(``ctr_mu``, ``ctr_sd_arm_log__``, ``ctr_arm_z``, ...); ``inference.funnel.layout`` says
where each sits and declares the data arguments (``KernelData``, filled by ``pack``).

Maths, per pooled quantity q (logit CTR, logit CVR, log order value), with tau = exp(u):

    3+ channels:  mu ~ N(center, sd0)
                  u_channel ~ N(log channel_spread, spread_sd);  channel[c] ~ N(mu, tau_channel)
    1-2 channels: channel[c] ~ N(center, sd0)
    u_arm ~ N(log arm_spread, spread_sd);  eta[a] ~ N(channel[c(a)], tau_arm)
    (non-centred: channel = mu + tau z, z ~ N(0, 1); likewise for arms)

Beta-binomial rows with alpha = r kappa[a], beta = (1 - r) kappa[a] (one concentration
per arm and stage, log kappa[a] ~ N(centre[a], sd)), written as differences that vanish
for zero counts:

    [lnG(k + alpha) - lnG(alpha)] + [lnG(n - k + beta) - lnG(beta)] - [lnG(n + kappa) - lnG(kappa)]

Order values: revenue[d] ~ Gamma(n[d] s, s / aov[a]) with s = 1 / (floor^2 + cv^2) and
log cv ~ N(log cv0, cv_sd).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from inference.funnel.layout import STRIDE
from inference.funnel.layout import GlobalFloat as GF
from inference.funnel.layout import GlobalInt as GI
from inference.funnel.layout import LevelFloat as LF
from inference.funnel.layout import LevelInt as LI
from inference.special import (
    inlined,
    lgamma_digamma,
    lgamma_ratio,
    log_sigmoid,
    normal_kernel,
    sigmoid,
)

__all__ = ["arm_values", "log_density"]

_jit = numba.njit(
    cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp", "reassoc", "nsz"}
)


@inlined
def _group_values(x, u_at, v_at, centred, log_spread, spread_sd, means, out):
    """One pooling level: members drawn around ``means`` with sd tau = exp(u), centred
    (the parameters are the values) or not (value = mean + tau z). Values into ``out``;
    returns the prior log density of u and the members."""
    u = x[u_at]
    tau = math.exp(u)
    lp = normal_kernel(u, log_spread, spread_sd)
    for i in range(out.shape[0]):
        v = x[v_at + i]
        if centred:
            lp += normal_kernel(v, means[i], tau) - u
            out[i] = v
        else:
            lp += -0.5 * v * v
            out[i] = means[i] + tau * v
    return lp


@inlined
def _group_gradient(x, u_at, v_at, centred, log_spread, spread_sd, means, g_out, grad, g_means):
    """Given d/d(values) in ``g_out``, add d/d(u, members) to ``grad`` and put
    d/d(means) into ``g_means`` (the chain rule through ``_group_values``)."""
    u = x[u_at]
    tau = math.exp(u)
    g_u = -(u - log_spread) / (spread_sd * spread_sd)
    for i in range(g_out.shape[0]):
        v = x[v_at + i]
        if centred:
            d = (v - means[i]) / (tau * tau)
            grad[v_at + i] += g_out[i] - d
            g_means[i] = d
            g_u += d * (v - means[i]) - 1.0
        else:
            grad[v_at + i] += g_out[i] * tau - v
            g_means[i] = g_out[i]
            g_u += g_out[i] * tau * v
    grad[u_at] += g_u


@_jit
def _level_values(x, ints, floats, q, arm_channel, n_channels, eta, base, chan):
    """Per-arm values of quantity ``q`` into ``eta`` (``base``: before the arm level;
    ``chan``: channel values); returns the prior log density of its parameters."""
    i = q * STRIDE
    center, sd0 = floats[i + LF.CENTER], floats[i + LF.SD0]
    n_arms = eta.shape[0]
    lp = 0.0
    if ints[i + LI.MODE] == 1:
        off = ints[i + LI.MU]
        for a in range(n_arms):
            y = x[off + a]
            eta[a] = y
            if q < 2:  # Beta(a, b) on the rate, with the log-odds Jacobian
                beta_a, beta_b = floats[i + LF.BETA_A], floats[i + LF.BETA_B]
                lp += beta_a * log_sigmoid(y) + beta_b * log_sigmoid(-y)
            else:
                lp += normal_kernel(y, center, sd0)
        return lp
    if ints[i + LI.MU] >= 0:
        mu = x[ints[i + LI.MU]]
        lp += normal_kernel(mu, center, sd0)
        means = np.full(n_channels, mu)
        lp += _group_values(
            x, ints[i + LI.CH_SD], ints[i + LI.CH_VAL], ints[i + LI.CH_CENTRED] == 1,
            floats[i + LF.LOG_CH_SPREAD], floats[i + LF.SPREAD_SD], means, chan,
        )  # fmt: skip
    else:  # too few channels to pool: each on its own prior
        off = ints[i + LI.CH_VAL]
        for c in range(n_channels):
            chan[c] = x[off + c]
            lp += normal_kernel(chan[c], center, sd0)
    for a in range(n_arms):
        base[a] = chan[arm_channel[a]]
    eta[:] = base
    if ints[i + LI.ARM_SD] >= 0:
        lp += _group_values(
            x, ints[i + LI.ARM_SD], ints[i + LI.ARM_VAL], ints[i + LI.ARM_CENTRED] == 1,
            floats[i + LF.LOG_ARM_SPREAD], floats[i + LF.SPREAD_SD], base, eta,
        )  # fmt: skip
    return lp


@_jit
def _level_gradient(x, ints, floats, q, arm_channel, n_channels, base, chan, g_eta, grad):
    """Add d(log density)/d(parameters of ``q``) to ``grad``, given d/d(eta) in ``g_eta``
    (the likelihood's) and ``base``/``chan`` from ``_level_values``."""
    i = q * STRIDE
    center, sd0 = floats[i + LF.CENTER], floats[i + LF.SD0]
    n_arms = g_eta.shape[0]
    if ints[i + LI.MODE] == 1:
        off = ints[i + LI.MU]
        for a in range(n_arms):
            y = x[off + a]
            if q < 2:
                r = sigmoid(y)
                grad[off + a] += (
                    g_eta[a] + floats[i + LF.BETA_A] * (1.0 - r) - floats[i + LF.BETA_B] * r
                )
            else:
                grad[off + a] += g_eta[a] - (y - center) / (sd0 * sd0)
        return
    g_base = g_eta.copy()
    if ints[i + LI.ARM_SD] >= 0:
        _group_gradient(
            x, ints[i + LI.ARM_SD], ints[i + LI.ARM_VAL], ints[i + LI.ARM_CENTRED] == 1,
            floats[i + LF.LOG_ARM_SPREAD], floats[i + LF.SPREAD_SD], base, g_eta, grad, g_base,
        )  # fmt: skip
    g_chan = np.zeros(n_channels)
    for a in range(n_arms):
        g_chan[arm_channel[a]] += g_base[a]
    if ints[i + LI.MU] >= 0:
        mu = x[ints[i + LI.MU]]
        g_means = np.empty(n_channels)
        _group_gradient(
            x, ints[i + LI.CH_SD], ints[i + LI.CH_VAL], ints[i + LI.CH_CENTRED] == 1,
            floats[i + LF.LOG_CH_SPREAD], floats[i + LF.SPREAD_SD], np.full(n_channels, mu),
            g_chan, grad, g_means,
        )  # fmt: skip
        grad[ints[i + LI.MU]] += g_means.sum() - (mu - center) / (sd0 * sd0)
    else:
        off = ints[i + LI.CH_VAL]
        for c in range(n_channels):
            grad[off + c] += g_chan[c] - (x[off + c] - center) / (sd0 * sd0)


@_jit
def _beta_binomial(eta, kappa, arm_start, n, k, g_eta, g_kappa):
    """Rows' beta-binomial log-likelihood (no binomial coefficient), one concentration
    per arm; d/d(eta) into ``g_eta`` and d/d(kappa) into ``g_kappa``. Rows are grouped by
    arm: arm a's rows are ``arm_start[a]:arm_start[a + 1]``."""
    lp = 0.0
    for a in range(eta.shape[0]):
        kap = kappa[a]
        lg_k, dg_k = lgamma_digamma(kap)
        rate, miss = sigmoid(eta[a]), sigmoid(-eta[a])
        alpha, beta = rate * kap, miss * kap
        lg_a, dg_a = lgamma_digamma(alpha)
        lg_b, dg_b = lgamma_digamma(beta)
        g_alpha, g_beta, g_k = 0.0, 0.0, 0.0
        for row in range(arm_start[a], arm_start[a + 1]):
            if k[row] > 0:
                value, slope = lgamma_ratio(alpha, k[row], lg_a, dg_a)
                lp += value
                g_alpha += slope
            if n[row] > k[row]:
                value, slope = lgamma_ratio(beta, n[row] - k[row], lg_b, dg_b)
                lp += value
                g_beta += slope
            value, slope = lgamma_ratio(kap, n[row], lg_k, dg_k)
            lp -= value
            g_k -= slope
        # alpha = r kappa, beta = (1 - r) kappa, dr/deta = r (1 - r)
        g_eta[a] = kap * (g_alpha - g_beta) * rate * miss
        g_kappa[a] = g_k + rate * g_alpha + miss * g_beta
    return lp


@_jit
def _binomial(eta, successes, failures, g_eta):
    lp = 0.0
    for a in range(eta.shape[0]):
        lp += successes[a] * log_sigmoid(eta[a]) + failures[a] * log_sigmoid(-eta[a])
        g_eta[a] = successes[a] * sigmoid(-eta[a]) - failures[a] * sigmoid(eta[a])
    return lp


@_jit
def _stage(
    x, floats, eta, overdispersed, kappa_at, centre, slot, arm_start, n, k, successes, failures,
    g_eta, grad,
):  # fmt: skip
    """One rate stage's likelihood and the prior of its learned per-arm log concentrations
    (log kappa[a] ~ N(centre[a], sd); exp(centre[a]) where ``slot[a]`` < 0); the binomial
    without overdispersion."""
    if not overdispersed:
        return _binomial(eta, successes, failures, g_eta)
    n_arms = eta.shape[0]
    kappa, g_kappa = np.empty(n_arms), np.empty(n_arms)
    for a in range(n_arms):
        kappa[a] = math.exp(x[kappa_at + slot[a]] if slot[a] >= 0 else centre[a])
    lp = _beta_binomial(eta, kappa, arm_start, n, k, g_eta, g_kappa)
    sd = floats[GF.KAPPA_SD]
    for a in range(n_arms):
        if slot[a] >= 0:
            at = kappa_at + slot[a]
            u = x[at]
            grad[at] += kappa[a] * g_kappa[a] - (u - centre[a]) / (sd * sd)
            lp += normal_kernel(u, centre[a], sd)
    return lp


@_jit
def _order_values(x, ints, floats, log_aov, rev_arm, rev_n, rev_y, rev_logy, g_eta, grad):
    """Gamma(n s, s / aov) revenue rows with s = 1 / (floor^2 + cv^2); d/d(log aov) into
    ``g_eta``."""
    at = ints[GI.CV]
    w = x[at]
    cv = math.exp(w)
    floor = floats[GF.CV_FLOOR]
    s = 1.0 / (floor * floor + cv * cv)
    u = math.log(s)
    mean, sd = floats[GF.CV], floats[GF.CV_SD]
    lp = normal_kernel(w, mean, sd)
    g_s = 0.0
    for a in range(g_eta.shape[0]):
        g_eta[a] = 0.0
    for row in range(rev_n.shape[0]):
        a = rev_arm[row]
        n = rev_n[row]
        alpha = n * s
        per_aov = rev_y[row] * math.exp(-log_aov[a])
        lg, dg = lgamma_digamma(alpha)
        lp += alpha * (u - log_aov[a]) - lg + (alpha - 1.0) * rev_logy[row] - s * per_aov
        g_eta[a] += s * (per_aov - n)
        g_s += n * (u - log_aov[a] + 1.0 - dg + rev_logy[row]) - per_aov
    # ds/dw = -2 s^2 cv^2
    grad[at] += g_s * (-2.0 * s * s * cv * cv) - (w - mean) / (sd * sd)
    return lp


@_jit
def log_density(x, grad, data):
    """The model's log density at ``x`` (up to a constant); its gradient into ``grad``.
    ``data``: the ``KernelData`` of a trial."""
    ints, floats = data.ints, data.floats
    arm_channel, n_channels = data.arm_channel, data.n_channels
    kappa_centre, kappa_slot, totals = data.kappa_centre, data.kappa_slot, data.totals
    n_arms = arm_channel.shape[0]
    for j in range(grad.shape[0]):
        grad[j] = 0.0
    eta, base = np.empty(n_arms), np.empty(n_arms)
    chan = np.empty(max(n_channels, 1))
    g_eta = np.empty(n_arms)
    lp = 0.0
    for q in range(3):
        lp += _level_values(x, ints, floats, q, arm_channel, n_channels, eta, base, chan)
        if q == 0:
            lp += _stage(
                x, floats, eta, ints[GI.OVERDISPERSED] == 1, ints[GI.KAPPA_CTR], kappa_centre[:, 0],
                kappa_slot[:, 0], data.ctr_start, data.ctr_n, data.ctr_k, totals[:, 0],
                totals[:, 1], g_eta, grad,
            )  # fmt: skip
        elif q == 1:
            lp += _stage(
                x, floats, eta, ints[GI.OVERDISPERSED] == 1, ints[GI.KAPPA_CVR], kappa_centre[:, 1],
                kappa_slot[:, 1], data.cvr_start, data.cvr_n, data.cvr_k, totals[:, 2],
                totals[:, 3], g_eta, grad,
            )  # fmt: skip
        else:
            lp += _order_values(
                x, ints, floats, eta, data.rev_arm, data.rev_n, data.rev_y, data.rev_logy, g_eta,
                grad,
            )  # fmt: skip
        _level_gradient(x, ints, floats, q, arm_channel, n_channels, base, chan, g_eta, grad)
    return lp


@_jit
def arm_values(x, data, out):
    """Per arm: CTR, CVR and revenue per conversion at ``x``, into the rows of ``out``."""
    ints, floats = data.ints, data.floats
    arm_channel, n_channels = data.arm_channel, data.n_channels
    n_arms = arm_channel.shape[0]
    eta, base = np.empty(n_arms), np.empty(n_arms)
    chan = np.empty(max(n_channels, 1))
    for q in range(3):
        _level_values(x, ints, floats, q, arm_channel, n_channels, eta, base, chan)
        for a in range(n_arms):
            out[q, a] = sigmoid(eta[a]) if q < 2 else math.exp(eta[a])
