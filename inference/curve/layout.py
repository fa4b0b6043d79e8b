"""What the hand-written curve kernel reads: its data arguments (``CurveData``), declared
once and filled by one packer (``pack``), and the named positions in its vectors: the
unconstrained parameters (``Parameter``, PyMC's names from ``spec.PARAMETERS``), the
prior numbers (``CurveFloat``) and the expanded draws (``Expanded``)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from inference.curve.data import SpendLadder, model_values
from inference.curve.spec import PARAMETERS, SaturationPriors
from inference.positions import named_positions

__all__ = [
    "EXPANDED",
    "FLOATS",
    "CurveData",
    "CurveField",
    "CurveFloat",
    "Expanded",
    "Parameter",
    "curve_floats",
    "pack",
    "start",
]

# The order of ``CurveData.floats``: the arm's own centres, then SaturationPriors' numbers.
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
# What the sampler reports per draw, in the order the kernel's ``curve_expand`` writes.
EXPANDED = ("m0", "elasticity", "day_cv", "order_value", "order_value_shape", "k", "alpha")

Parameter = named_positions("Parameter", PARAMETERS)
CurveFloat = named_positions("CurveFloat", FLOATS)
Expanded = named_positions("Expanded", EXPANDED)


class CurveData(NamedTuple):
    """The kernel's data arguments (``curve_log_density(u, grad, data)``), float64 each.
    The only list of them: the packer fills it, the sampler's callback reads it back."""

    floats: np.ndarray  # (len(FLOATS),): by ``CurveFloat``
    x: np.ndarray  # (days,): spend / today's spend
    conversions: np.ndarray  # (days,)
    revenue: np.ndarray  # (days,): 1 on days without orders
    has_orders: np.ndarray  # (days,): 1 on days with orders and revenue, else 0
    log_revenue: np.ndarray  # (days,): log revenue, 0 on days without orders


CurveField = named_positions("CurveField", CurveData._fields)


def curve_floats(log_level: float, log_value: float, priors: SaturationPriors) -> np.ndarray:
    """The kernel's ``floats`` (see ``FLOATS``) for one arm under ``priors``."""
    centres = {"log_level": log_level, "log_value": log_value}
    return np.array(
        [centres[name] if name in centres else getattr(priors, name) for name in FLOATS],
        dtype=float,
    )


def pack(ladder: SpendLadder, priors: SaturationPriors) -> CurveData:
    """The kernel's data arguments for one arm's ladder: the one packer."""
    values = model_values(ladder)
    has_orders = np.asarray(values["has_orders"], dtype=np.float64)
    revenue = np.asarray(values["revenue"], dtype=np.float64)
    return CurveData(
        floats=curve_floats(float(values["log_level"]), float(values["log_value"]), priors),
        x=np.asarray(values["x"], dtype=np.float64),
        conversions=np.asarray(values["conversions"], dtype=np.float64),
        revenue=revenue,
        has_orders=has_orders,
        log_revenue=np.log(np.where(has_orders > 0, revenue, 1.0)),
    )


def start(floats: np.ndarray) -> np.ndarray:
    """A starting point at the priors' centres (nutpie jitters it per chain)."""
    f = CurveFloat
    point = {
        "m0_log__": floats[f.log_level],
        # the Beta's mean on the log-odds scale
        "elasticity_logodds__": math.log(floats[f.elasticity_a] / floats[f.elasticity_b]),
        "day_cv_log__": math.log(0.67 * floats[f.day_cv_scale]),  # the half-normal's median
        "order_value_log__": floats[f.log_value],
        "order_value_shape_log__": math.log(
            floats[f.order_value_shape_a] / floats[f.order_value_shape_b]
        ),
    }
    return np.array([point[name] for name in PARAMETERS])
