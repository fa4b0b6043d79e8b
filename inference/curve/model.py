"""The response curve stated in PyMC: the reference the hand-written kernel
(``inference.curve.kernel``) is tested against. The model is described in
``inference.curve.spec``."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from inference.curve.data import SpendLadder, model_values
from inference.curve.spec import SaturationPriors

__all__ = ["build_saturation_model"]


def build_saturation_model(ladder: SpendLadder, priors: SaturationPriors | None = None):
    """The PyMC model for one arm's ladder (named coords: day)."""
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
