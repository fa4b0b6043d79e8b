"""Which pooling levels a trial's model has, how each is written, and the data-scaled
prior centres of each arm's day-to-day concentration.

Shared by the PyMC model (``inference.funnel.model``) and the hand-written density
(``inference.funnel.kernel``), without importing PyMC.

Pooling levels, chosen by what the data can learn (measured in
``tests/inference/funnel/test_pooling_simulated.py``):

* **Channels** are pooled around a trial-wide mean only with three or more channels. Two
  channels cannot tell how much channels differ: a learned spread would be the prior's,
  and shrinking two platforms towards each other stage by stage (CTR, CVR, order value
  shrunk by different amounts) can reverse their ROAS ranking. With one or two channels
  each channel's values have their own wide prior.
* **Arms** (creatives) are pooled within their channel whenever a channel has two or
  more; how much creatives differ (``priors.arm_spread``) is learned from the arms when
  there are at least two within-channel contrasts, and is the prior's otherwise (noted).
"""

from __future__ import annotations

import numpy as np

from inference.funnel.data import FunnelData
from inference.funnel.spec import QUANTITIES, ModelSpec, Structure

__all__ = [
    "MIN_DAYS_TO_LEARN_VARIATION",
    "MIN_POOLED_CHANNELS",
    "arm_level_centred",
    "concentration_log_sd",
    "few_days",
    "kappa_centres",
    "kappa_slots",
    "model_structure",
    "structure",
    "structure_notes",
]

MIN_POOLED_CHANNELS = 3
# Fewer days than this with data (per arm and stage) leave day-to-day variation to the prior.
MIN_DAYS_TO_LEARN_VARIATION = 5


def structure(data: FunnelData) -> tuple[bool, bool]:
    """Which pooling levels the model has: (channel level, arm level)."""
    per_channel = np.bincount(data.arm_channel, minlength=data.n_channels)
    return data.n_channels >= MIN_POOLED_CHANNELS, bool((per_channel > 1).any())


def model_structure(data: FunnelData, spec: ModelSpec) -> Structure:
    """Everything about the model's shape that ``data`` and ``spec`` decide."""
    channel_level, arm_level = structure(data)
    centred = arm_level_centred(data, spec)
    learned = (kappa_slots(data) >= 0).sum(axis=0)
    return Structure(
        pooling=spec.pooling,
        overdispersion=spec.overdispersion,
        channel_level=channel_level,
        centred_channels=spec.parameterization != "non_centred",
        arm_level=arm_level,
        centred_arms=tuple(centred[q] for q in QUANTITIES),
        learned_concentrations=(int(learned[0]), int(learned[1])),
    )


def structure_notes(data: FunnelData, spec: ModelSpec) -> tuple[str, ...]:
    """What the partially pooled model could not learn from this trial's shape."""
    if spec.pooling == "none":
        return ()
    notes = []
    if data.n_channels == 2:
        notes.append(
            "Two channels are too few to learn how much channels differ, so each channel "
            "is estimated on its own (no pooling across channels)."
        )
    per_channel = np.bincount(data.arm_channel, minlength=data.n_channels)
    contrasts = int(np.maximum(per_channel - 1, 0).sum())
    if contrasts == 1:
        notes.append(
            "With two creatives in one channel, how much creatives differ cannot be "
            f"learned: the model assumes they differ by about ±{spec.priors.arm_spread:.0%} "
            "in rate and pulls each a little towards the other."
        )
    return tuple(notes)


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


def kappa_centres(data: FunnelData, spec: ModelSpec) -> np.ndarray:
    """Prior medians of log concentration per arm, shape (n_arms, 2) for (CTR, CVR).

    A day's rate p_d ~ Beta(r kappa, (1 - r) kappa) has relative sd
    c = sqrt((1 - r) / (r (kappa + 1))), so the prior median of the relative daily
    variation ``priors.daily_variation`` means kappa = (1 - r) / (r c^2) - 1 at the arm's
    own raw rate r. The prior thus says the same thing whatever the arm's rate (a CTR of
    0.5 % and a CVR of 10 % alike), and depends on no other arm.
    """
    totals = data.totals()
    c2 = spec.priors.daily_variation**2
    out = np.empty((data.n_arms, 2))
    for column, (hits, tries) in enumerate(
        ((totals.clicks, totals.impressions), (totals.converted_clicks, totals.paired_clicks))
    ):
        rate = (hits + 0.5) / (tries + 1.0)
        kappa = np.maximum((1 - rate) / (rate * c2) - 1, 1.0)
        out[:, column] = np.log(kappa)
    return out


def kappa_slots(data: FunnelData) -> np.ndarray:
    """Per arm and stage (CTR, CVR columns): the index of the arm's concentration among
    the stage's learned ones, or -1 where it is fixed at its prior median.

    Day-to-day variation is learned from an arm's own days; with fewer than
    ``MIN_DAYS_TO_LEARN_VARIATION`` of them the data cannot tell it from the rate (one day
    says nothing about how days vary), and a free concentration would only let the prior's
    tail widen the answer and the sampler wander. Such arms keep the prior median, which
    widens their intervals mildly, and their metrics carry a note (``few_days``).
    """
    t = data.totals()
    slots = np.full((data.n_arms, 2), -1, dtype=np.int64)
    for column, days in enumerate((t.days, t.paired_days)):
        learned = np.flatnonzero(days >= MIN_DAYS_TO_LEARN_VARIATION)
        slots[learned, column] = np.arange(learned.size)
    return slots


def concentration_log_sd(spec: ModelSpec) -> float:
    """The log-normal prior's sd on log kappa (kappa ~ 1 / c^2, so twice c's log sd)."""
    return 2.0 * spec.priors.daily_variation_log_sd


def few_days(data: FunnelData) -> dict[str, list[int]]:
    """Per rate, the arms with too few days to learn their day-to-day variation (those
    whose concentration ``kappa_slots`` keeps fixed)."""
    slots = kappa_slots(data)
    return {
        stage: [int(a) for a in np.flatnonzero(slots[:, column] < 0)]
        for column, stage in enumerate(("ctr", "cvr"))
    }
