"""Translate a ``ModelSpec`` and ``FunnelData`` into a PyMC funnel model.

The model, per arm a in channel c(a), for the two funnel stages s in {ctr, cvr}:

    partial pooling (centred; non-centred writes each level as mean + sd * z):
        3+ channels:  mu_s ~ Normal(logit(prior mean_s), rate_logit_sd)
                      channel_s[c] ~ Normal(mu_s, sd_channel_s)
        1-2 channels: channel_s[c] ~ Normal(logit(prior mean_s), rate_logit_sd)
        eta_s[a]     ~ Normal(channel_s[c(a)], sd_arm_s)   (when a channel has 2+ arms)
        sd_*         ~ LogNormal(log(spread), spread_sd)   (kept away from 0: no funnels)
        rate_s[a]    = logistic(eta_s[a])
    no pooling:
        rate_s[a]    ~ Beta(beta_a, beta_b)

    daily counts, with overdispersion per arm (kappa_s[a] ~ LogNormal(centre_s[a], sd),
    centred on the arm's own raw rate, ``inference.funnel.levels.kappa_centres``; fixed at
    exp(centre_s[a]) for an arm with fewer than 5 days, ``kappa_slots``):
        clicks[d]      ~ BetaBinomial(impressions[d], ctr[a] kappa, (1 - ctr[a]) kappa)
        conversions[d] ~ BetaBinomial(clicks[d],      cvr[a] kappa, (1 - cvr[a]) kappa)
                         on paired days only (clicks explain the conversions)
    or, without, the same as Binomial(n, rate[a]).

    revenue on days with n > 0 orders and revenue, order values Gamma(k, k / aov[a]):
        revenue[d] ~ Gamma(n[d] k, k / aov[a]),  log aov pooled like the rates,
        k = 1 / (floor^2 + cv^2),  cv ~ LogNormal(log(order_value_cv), cv_log_sd).

The paying share of conversions and unpaired conversions per click (``inference.funnel.derived``)
are conjugate and independent of these parameters given the data, so they are drawn
exactly outside the sampler. A level with a single member is left out (one arm per
channel: no arm level). Observed arrays are ``pm.Data``, so a compiled model takes a new
day's data without being rebuilt, as long as the arms and channels stay the same.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from inference.funnel.data import FunnelData
from inference.funnel.levels import (
    arm_level_centred,
    concentration_log_sd,
    kappa_centres,
    kappa_slots,
    structure,
)
from inference.funnel.spec import ModelSpec

__all__ = ["arm_level_centred", "build_funnel_model", "model_data", "structure"]

RATE_STAGES = {"ctr": "ctr_mean", "cvr": "cvr_mean"}


def model_data(data: FunnelData, spec: ModelSpec | None = None) -> dict[str, np.ndarray]:
    """The arrays the model reads as ``pm.Data`` (what ``with_data`` replaces)."""
    spec = spec or ModelSpec()
    has_revenue = data.has_revenue
    paired = data.paired
    centres = kappa_centres(data, spec)
    return {
        "obs_arm": data.arm,
        "arm_rows": np.bincount(data.arm, minlength=data.n_arms).astype(np.float64),
        "impressions": data.impressions,
        "clicks": data.clicks,
        "cvr_obs_arm": data.arm[paired],
        "cvr_rows": np.bincount(data.arm[paired], minlength=data.n_arms).astype(np.float64),
        "cvr_clicks": data.clicks[paired],
        "converted": data.conversions[paired],
        "ctr_kappa_centre": centres[:, 0],
        "cvr_kappa_centre": centres[:, 1],
        "rev_arm": data.arm[has_revenue],
        "rev_orders": data.conversions[has_revenue].astype(np.float64),
        "revenue": data.revenue[has_revenue],
        "prior_log_order_value": np.array(np.log(data.pooled_order_value())),
    }


def build_funnel_model(data: FunnelData, spec: ModelSpec | None = None) -> pm.Model:
    """The PyMC model for ``data`` under ``spec``; named coords ``arm``, ``channel``, ``day``."""
    spec = spec or ModelSpec()
    p = spec.priors
    arrays = model_data(data, spec)
    coords = {"arm": list(data.arms), "channel": list(data.channels), "day": list(data.days)}
    with pm.Model(coords=coords) as model:
        d = {name: pm.Data(name, value) for name, value in arrays.items()}
        rates = {
            stage: pm.Deterministic(stage, _rate(stage, data, spec), dims="arm")
            for stage in RATE_STAGES
        }
        for stage, (arm, rows, trials, successes) in {
            "ctr": (d["obs_arm"], d["arm_rows"], d["impressions"], d["clicks"]),
            "cvr": (d["cvr_obs_arm"], d["cvr_rows"], d["cvr_clicks"], d["converted"]),
        }.items():
            _counts(stage, rates[stage], arm, rows, trials, successes, spec, d, data)
        aov = pm.Deterministic(
            "revenue_per_conversion", pt.exp(_log_order_value(data, spec, d)), dims="arm"
        )
        cv = pm.LogNormal("order_value_cv", np.log(p.order_value_cv), p.order_value_cv_log_sd)
        shape = pm.Deterministic("order_value_shape", 1 / (p.order_value_cv_floor**2 + cv**2))
        pm.Gamma(
            "revenue_obs",
            alpha=d["rev_orders"] * shape,
            beta=shape / aov[d["rev_arm"]],
            observed=d["revenue"],
            shape=d["rev_arm"].shape,
        )
    return model


def _rate(stage: str, data: FunnelData, spec: ModelSpec):
    p = spec.priors
    if spec.pooling == "none":
        return pm.Beta(f"{stage}_rate", p.beta_a, p.beta_b, dims="arm")
    prior_mean = getattr(p, RATE_STAGES[stage])
    centre = np.log(prior_mean / (1 - prior_mean))
    eta = _levels(stage, (centre, p.rate_logit_sd), data, spec, p.channel_spread, p.arm_spread)
    return pm.math.invlogit(eta)


def _log_order_value(data: FunnelData, spec: ModelSpec, d: dict):
    p = spec.priors
    center = d["prior_log_order_value"]
    if spec.pooling == "none":
        return pm.Normal("log_order_value", center, p.revenue_log_sd, dims="arm")
    return _levels(
        "log_order_value",
        (center, p.revenue_log_sd),
        data,
        spec,
        p.revenue_channel_spread,
        p.revenue_arm_spread,
    )


def _levels(name: str, mu, data: FunnelData, spec: ModelSpec, channel_spread, arm_spread):
    """Channel and arm levels; returns the per-arm value. ``mu`` is (centre, sd) of the
    top-level prior: the trial mean's with a channel level, each channel's without."""
    channel_level, arm_level = structure(data)
    spread_sd = spec.priors.spread_sd
    centre, sd0 = mu
    if channel_level:
        mean = pm.Normal(f"{name}_mu", centre, sd0)
        sd = pm.LogNormal(f"{name}_sd_channel", np.log(channel_spread), spread_sd)
        if spec.parameterization != "non_centred":
            channel = pm.Normal(f"{name}_channel", mean, sd, dims="channel")
        else:
            z = pm.Normal(f"{name}_channel_z", 0.0, 1.0, dims="channel")
            channel = pm.Deterministic(f"{name}_channel", mean + sd * z, dims="channel")
    else:
        channel = pm.Normal(f"{name}_channel", centre, sd0, dims="channel")
    base = channel[data.arm_channel]
    if not arm_level:
        return base
    sd = pm.LogNormal(f"{name}_sd_arm", np.log(arm_spread), spread_sd)
    if arm_level_centred(data, spec)[name]:
        return pm.Normal(f"{name}_arm", base, sd, dims="arm")
    z = pm.Normal(f"{name}_arm_z", 0.0, 1.0, dims="arm")
    return base + sd * z


def _counts(stage: str, rate, arm, arm_rows, trials, successes, spec: ModelSpec, d, data) -> None:
    """Add the log-likelihood of one funnel stage's daily counts (without constants).

    Beta-binomial, with alpha = rate kappa and beta = (1 - rate) kappa per arm:
        sum_d [lnG(k_d + alpha) + lnG(n_d - k_d + beta) - lnG(n_d + kappa)]
          + rows_a [lnG(kappa) - lnG(alpha) - lnG(beta)]
    The per-arm terms are the same on every day, so they are computed once per arm and
    multiplied by the arm's number of rows: half the special functions of the textbook
    form, which is what a gradient evaluation costs (``bench/``). The binomial
    coefficient does not depend on the parameters and is left out. Arms with too few
    days keep kappa at its prior median (``inference.funnel.levels.kappa_slots``).
    """
    if spec.overdispersion:
        centre = d[f"{stage}_kappa_centre"]
        learned = np.flatnonzero(kappa_slots(data)[:, 0 if stage == "ctr" else 1] >= 0)
        kappa = pt.exp(centre)
        if learned.size:
            free = pm.LogNormal(
                f"{stage}_concentration",
                centre[learned],
                concentration_log_sd(spec),
                shape=learned.size,
            )
            kappa = pt.set_subtensor(kappa[learned], free)
        kappa = pm.Deterministic(f"{stage}_kappa", kappa, dims="arm")
        alpha, beta = rate * kappa, (1 - rate) * kappa
        per_day = (
            pt.gammaln(successes + alpha[arm])
            + pt.gammaln(trials - successes + beta[arm])
            - pt.gammaln(trials + kappa[arm])
        )
        per_arm = arm_rows * (pt.gammaln(kappa) - pt.gammaln(alpha) - pt.gammaln(beta))
        pm.Potential(f"{stage}_obs", per_day.sum() + per_arm.sum())
    else:
        log_rate, log_miss = pt.log(rate), pt.log1p(-rate)
        pm.Potential(
            f"{stage}_obs",
            (successes * log_rate[arm] + (trials - successes) * log_miss[arm]).sum(),
        )
