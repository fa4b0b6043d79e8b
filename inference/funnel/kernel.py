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
(``ctr_mu``, ``ctr_sd_arm_log__``, ``ctr_arm_z``, ...), see ``Layout``.

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
from dataclasses import dataclass

import numba
import numpy as np

from inference.funnel.data import FunnelData
from inference.funnel.levels import (
    arm_level_centred,
    concentration_log_sd,
    kappa_centres,
    kappa_slots,
    structure,
)
from inference.funnel.spec import ModelSpec
from inference.special import (
    inlined,
    lgamma_digamma,
    lgamma_ratio,
    log_sigmoid,
    normal_kernel,
    sigmoid,
)

__all__ = [
    "Layout",
    "arm_values",
    "density_arrays",
    "initial_point",
    "layout_for",
    "log_density",
]

QUANTITIES = ("ctr", "cvr", "log_order_value")
# Per quantity, _Q integers in ``Layout.ints`` at q * _Q + one of these: the mode (0 partial,
# 1 none), then offsets into x of: the trial mean (-1 without a channel level; with mode
# 1, of the per-arm values), the channel log-sd, the channel values (free channels with
# their own prior when there is no channel level), whether channels are centred, the arm
# log-sd, the arm values, whether arms are centred (-1 where absent).
_MODE, _MU, _CH_SD, _CH_VAL, _CH_CENTRED, _ARM_SD, _ARM_VAL, _ARM_CENTRED = range(8)
_Q = 8
# Per quantity, floats at q * _Q + one of these.
_CENTER, _SD0, _LOG_CH_SPREAD, _LOG_ARM_SPREAD, _SPREAD_SD, _BETA_A, _BETA_B = range(7)
# Globals after the quantities. ints: offsets of the order-value log-CV and of the CTR and
# CVR learned log-concentrations (``Layout.kappa_slot`` says which arm is where), and
# whether counts are overdispersed. floats: the log-CV's prior median and sd, the CV
# floor, the log-concentrations' prior sd.
_CV, _KAPPA_CTR, _KAPPA_CVR, _OVERDISPERSED = 3 * _Q, 3 * _Q + 1, 3 * _Q + 2, 3 * _Q + 3
_F_CV, _F_CV_SD, _F_CV_FLOOR, _F_KAPPA_SD = 3 * _Q, 3 * _Q + 1, 3 * _Q + 2, 3 * _Q + 3


@dataclass(frozen=True)
class Layout:
    """Where each block of parameters sits in the unconstrained vector.

    ``blocks`` names them as PyMC names its value variables, with their sizes, in order;
    ``ints`` and ``floats`` carry offsets, switches and prior constants to the kernel;
    ``kappa_centre`` the per-arm prior medians of log concentration (CTR, CVR columns);
    ``kappa_slot`` each arm's index among the learned concentrations, -1 where fixed.
    """

    blocks: tuple[tuple[str, int], ...]
    ints: np.ndarray
    floats: np.ndarray
    kappa_centre: np.ndarray
    kappa_slot: np.ndarray

    @property
    def n_dim(self) -> int:
        return sum(size for _, size in self.blocks)

    def offsets(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, size in self.blocks:
            out[name] = slice(start, start + size)
            start += size
        return out


def layout_for(data: FunnelData, spec: ModelSpec) -> Layout:
    """The parameter layout of ``spec``'s model for ``data`` (as ``build_funnel_model``)."""
    p = spec.priors
    channel_level, arm_level = structure(data)
    centred_arms = arm_level_centred(data, spec)
    ints = np.full(3 * _Q + 4, -1, dtype=np.int64)
    floats = np.zeros(3 * _Q + 4)
    blocks: list[tuple[str, int]] = []

    def add(name: str, size: int) -> int:
        start = sum(s for _, s in blocks)
        blocks.append((name, size))
        return start

    centers = {
        "ctr": (math.log(p.ctr_mean / (1 - p.ctr_mean)), p.rate_logit_sd),
        "cvr": (math.log(p.cvr_mean / (1 - p.cvr_mean)), p.rate_logit_sd),
        "log_order_value": (math.log(data.pooled_order_value()), p.revenue_log_sd),
    }
    spreads = {
        "ctr": (p.channel_spread, p.arm_spread),
        "cvr": (p.channel_spread, p.arm_spread),
        "log_order_value": (p.revenue_channel_spread, p.revenue_arm_spread),
    }
    for q, name in enumerate(QUANTITIES):
        i, center = q * _Q, centers[name]
        floats[i : i + 7] = (
            *center,
            math.log(spreads[name][0]),
            math.log(spreads[name][1]),
            p.spread_sd,
            p.beta_a,
            p.beta_b,
        )
        if spec.pooling == "none":
            ints[i + _MODE] = 1
            values = "log_order_value" if q == 2 else f"{name}_rate_logodds__"
            ints[i + _MU] = add(values, data.n_arms)
            continue
        ints[i + _MODE] = 0
        if channel_level:
            centred = spec.parameterization != "non_centred"
            ints[i + _MU] = add(f"{name}_mu", 1)
            ints[i + _CH_SD] = add(f"{name}_sd_channel_log__", 1)
            suffix = "" if centred else "_z"
            ints[i + _CH_VAL] = add(f"{name}_channel{suffix}", data.n_channels)
            ints[i + _CH_CENTRED] = int(centred)
        else:
            ints[i + _CH_VAL] = add(f"{name}_channel", data.n_channels)
        if arm_level:
            centred = centred_arms[name]
            ints[i + _ARM_SD] = add(f"{name}_sd_arm_log__", 1)
            ints[i + _ARM_VAL] = add(f"{name}_arm" if centred else f"{name}_arm_z", data.n_arms)
            ints[i + _ARM_CENTRED] = int(centred)
    slots = kappa_slots(data)
    ints[_OVERDISPERSED] = int(spec.overdispersion)
    if spec.overdispersion:
        for column, (at, name) in enumerate(((_KAPPA_CTR, "ctr"), (_KAPPA_CVR, "cvr"))):
            learned = int((slots[:, column] >= 0).sum())
            ints[at] = add(f"{name}_concentration_log__", learned) if learned else 0
    ints[_CV] = add("order_value_cv_log__", 1)
    floats[_F_CV] = math.log(p.order_value_cv)
    floats[_F_CV_SD] = p.order_value_cv_log_sd
    floats[_F_CV_FLOOR] = p.order_value_cv_floor
    floats[_F_KAPPA_SD] = concentration_log_sd(spec)
    return Layout(
        blocks=tuple(blocks),
        ints=ints,
        floats=floats,
        kappa_centre=np.ascontiguousarray(kappa_centres(data, spec)),
        kappa_slot=np.ascontiguousarray(slots),
    )


def density_arrays(data: FunnelData) -> tuple[np.ndarray, ...]:
    """The data arguments of ``log_density``, in order, in the dtypes it was compiled for.

    Each funnel stage's rows are grouped by arm (``*_start[a]:*_start[a + 1]`` are arm a's
    rows), so the kernel keeps an arm's parameters in registers while it runs through
    them. Days with no impressions (clicks) add nothing to the CTR (CVR) stage and are
    left out.
    """
    n, k = data.impressions, data.clicks
    m, j = data.paired_clicks, data.converted_clicks
    totals = np.zeros((data.n_arms, 4))
    for column, values in enumerate((k, n - k, j, m - j)):
        totals[:, column] = np.bincount(data.arm, weights=values, minlength=data.n_arms)
    rev = data.has_revenue

    def by_arm(trials: np.ndarray, successes: np.ndarray):
        keep = np.flatnonzero(trials > 0)
        order = keep[np.argsort(data.arm[keep], kind="stable")]
        counts = np.bincount(data.arm[order], minlength=data.n_arms)
        start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return start, trials[order].astype(np.float64), successes[order].astype(np.float64)

    return (
        np.ascontiguousarray(data.arm_channel, dtype=np.int64),
        np.int64(data.n_channels),
        *by_arm(n, k),
        *by_arm(m, j),
        totals,
        np.ascontiguousarray(data.arm[rev], dtype=np.int64),
        data.conversions[rev].astype(np.float64),
        data.revenue[rev].astype(np.float64),
        np.log(data.revenue[rev]).astype(np.float64),
    )


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
    i = q * _Q
    center, sd0 = floats[i + _CENTER], floats[i + _SD0]
    n_arms = eta.shape[0]
    lp = 0.0
    if ints[i + _MODE] == 1:
        off = ints[i + _MU]
        for a in range(n_arms):
            y = x[off + a]
            eta[a] = y
            if q < 2:  # Beta(a, b) on the rate, with the log-odds Jacobian
                lp += floats[i + _BETA_A] * log_sigmoid(y) + floats[i + _BETA_B] * log_sigmoid(-y)
            else:
                lp += normal_kernel(y, center, sd0)
        return lp
    if ints[i + _MU] >= 0:
        mu = x[ints[i + _MU]]
        lp += normal_kernel(mu, center, sd0)
        means = np.full(n_channels, mu)
        lp += _group_values(
            x, ints[i + _CH_SD], ints[i + _CH_VAL], ints[i + _CH_CENTRED] == 1,
            floats[i + _LOG_CH_SPREAD], floats[i + _SPREAD_SD], means, chan,
        )  # fmt: skip
    else:  # too few channels to pool: each on its own prior
        off = ints[i + _CH_VAL]
        for c in range(n_channels):
            chan[c] = x[off + c]
            lp += normal_kernel(chan[c], center, sd0)
    for a in range(n_arms):
        base[a] = chan[arm_channel[a]]
    eta[:] = base
    if ints[i + _ARM_SD] >= 0:
        lp += _group_values(
            x, ints[i + _ARM_SD], ints[i + _ARM_VAL], ints[i + _ARM_CENTRED] == 1,
            floats[i + _LOG_ARM_SPREAD], floats[i + _SPREAD_SD], base, eta,
        )  # fmt: skip
    return lp


@_jit
def _level_gradient(x, ints, floats, q, arm_channel, n_channels, base, chan, g_eta, grad):
    """Add d(log density)/d(parameters of ``q``) to ``grad``, given d/d(eta) in ``g_eta``
    (the likelihood's) and ``base``/``chan`` from ``_level_values``."""
    i = q * _Q
    center, sd0 = floats[i + _CENTER], floats[i + _SD0]
    n_arms = g_eta.shape[0]
    if ints[i + _MODE] == 1:
        off = ints[i + _MU]
        for a in range(n_arms):
            y = x[off + a]
            if q < 2:
                r = sigmoid(y)
                grad[off + a] += (
                    g_eta[a] + floats[i + _BETA_A] * (1.0 - r) - floats[i + _BETA_B] * r
                )
            else:
                grad[off + a] += g_eta[a] - (y - center) / (sd0 * sd0)
        return
    g_base = g_eta.copy()
    if ints[i + _ARM_SD] >= 0:
        _group_gradient(
            x, ints[i + _ARM_SD], ints[i + _ARM_VAL], ints[i + _ARM_CENTRED] == 1,
            floats[i + _LOG_ARM_SPREAD], floats[i + _SPREAD_SD], base, g_eta, grad, g_base,
        )  # fmt: skip
    g_chan = np.zeros(n_channels)
    for a in range(n_arms):
        g_chan[arm_channel[a]] += g_base[a]
    if ints[i + _MU] >= 0:
        mu = x[ints[i + _MU]]
        g_means = np.empty(n_channels)
        _group_gradient(
            x, ints[i + _CH_SD], ints[i + _CH_VAL], ints[i + _CH_CENTRED] == 1,
            floats[i + _LOG_CH_SPREAD], floats[i + _SPREAD_SD], np.full(n_channels, mu),
            g_chan, grad, g_means,
        )  # fmt: skip
        grad[ints[i + _MU]] += g_means.sum() - (mu - center) / (sd0 * sd0)
    else:
        off = ints[i + _CH_VAL]
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
    sd = floats[_F_KAPPA_SD]
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
    at = ints[_CV]
    w = x[at]
    cv = math.exp(w)
    floor = floats[_F_CV_FLOOR]
    s = 1.0 / (floor * floor + cv * cv)
    u = math.log(s)
    mean, sd = floats[_F_CV], floats[_F_CV_SD]
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
def log_density(
    x,
    grad,
    ints,
    floats,
    kappa_centre,
    kappa_slot,
    arm_channel,
    n_channels,
    ctr_start,
    ctr_n,
    ctr_k,
    cvr_start,
    cvr_n,
    cvr_k,
    totals,
    rev_arm,
    rev_n,
    rev_y,
    rev_logy,
):
    """The model's log density at ``x`` (up to a constant); its gradient into ``grad``."""
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
                x, floats, eta, ints[_OVERDISPERSED] == 1, ints[_KAPPA_CTR], kappa_centre[:, 0],
                kappa_slot[:, 0], ctr_start, ctr_n, ctr_k, totals[:, 0], totals[:, 1], g_eta, grad,
            )  # fmt: skip
        elif q == 1:
            lp += _stage(
                x, floats, eta, ints[_OVERDISPERSED] == 1, ints[_KAPPA_CVR], kappa_centre[:, 1],
                kappa_slot[:, 1], cvr_start, cvr_n, cvr_k, totals[:, 2], totals[:, 3], g_eta, grad,
            )  # fmt: skip
        else:
            lp += _order_values(x, ints, floats, eta, rev_arm, rev_n, rev_y, rev_logy, g_eta, grad)
        _level_gradient(x, ints, floats, q, arm_channel, n_channels, base, chan, g_eta, grad)
    return lp


@_jit
def arm_values(x, ints, floats, arm_channel, n_channels, out):
    """Per arm: CTR, CVR and revenue per conversion at ``x``, into the rows of ``out``."""
    n_arms = arm_channel.shape[0]
    eta, base = np.empty(n_arms), np.empty(n_arms)
    chan = np.empty(max(n_channels, 1))
    for q in range(3):
        _level_values(x, ints, floats, q, arm_channel, n_channels, eta, base, chan)
        for a in range(n_arms):
            out[q, a] = sigmoid(eta[a]) if q < 2 else math.exp(eta[a])


def initial_point(data: FunnelData, spec: ModelSpec, layout: Layout | None = None) -> np.ndarray:
    """A starting point near the data: every arm at the trial's pooled rates and order
    value, spreads and concentrations at their prior medians (the sampler adds jitter)."""
    layout = layout or layout_for(data, spec)
    totals = data.totals()
    pooled = {
        "ctr": (totals.clicks.sum() + 0.5) / (totals.impressions.sum() + 1.0),
        "cvr": (totals.converted_clicks.sum() + 0.5) / (totals.paired_clicks.sum() + 1.0),
    }
    x = np.zeros(layout.n_dim)
    for name, where in layout.offsets().items():
        if name.endswith("_z"):
            value = 0.0
        elif name == "ctr_concentration_log__":
            value = layout.kappa_centre[layout.kappa_slot[:, 0] >= 0, 0]
        elif name == "cvr_concentration_log__":
            value = layout.kappa_centre[layout.kappa_slot[:, 1] >= 0, 1]
        elif name.endswith("_log__"):
            value = _prior_log_median(name, spec)
        elif name.startswith("log_order_value"):
            value = math.log(data.pooled_order_value())
        else:
            rate = pooled[name[:3]]
            value = math.log(rate / (1 - rate))
        x[where] = value
    return x


def _prior_log_median(name: str, spec: ModelSpec) -> float:
    p = spec.priors
    if name == "order_value_cv_log__":
        return math.log(p.order_value_cv)
    revenue = name.startswith("log_order_value")
    if "channel" in name:
        return math.log(p.revenue_channel_spread if revenue else p.channel_spread)
    return math.log(p.revenue_arm_spread if revenue else p.arm_spread)
