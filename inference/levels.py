"""Which pooling levels a trial's model has, and how each is written.

Shared by the PyMC model (``inference.model``) and the hand-written density
(``inference.density``), without importing PyMC.
"""

from __future__ import annotations

import numpy as np

from inference.data import FunnelData
from inference.spec import ModelSpec

__all__ = ["arm_level_centred", "structure"]


def structure(data: FunnelData) -> tuple[bool, bool]:
    """Which pooling levels the data can support: (channel level, arm level)."""
    per_channel = np.bincount(data.arm_channel, minlength=data.n_channels)
    return data.n_channels > 1, bool((per_channel > 1).any())


def arm_level_centred(data: FunnelData, spec: ModelSpec) -> dict[str, bool]:
    """Per pooled quantity, whether its arm level is written centred.

    On the logit scale an arm's rate is known from its own data to about
    1 / sqrt(successes); when that is tighter than half the prior arm spread the data
    dominate and the centred form samples well, else the non-centred form avoids the
    funnel between the spread and the arm effects (measured in ``bench/``).
    """
    if spec.parameterization != "auto":
        centred = spec.parameterization == "centred"
        return {"ctr": centred, "cvr": centred, "log_order_value": centred}
    totals = data.totals()
    orders, _ = data.order_totals()
    half_spread = spec.priors.arm_spread / 2

    def strong(successes: np.ndarray) -> bool:
        return bool(np.median(1 / np.sqrt(np.maximum(successes, 1))) < half_spread)

    return {
        "ctr": strong(totals.clicks),
        "cvr": strong(totals.converted_clicks),
        "log_order_value": strong(orders),
    }
