"""From funnel-stage draws to a ``Posterior``: the part the exact and MCMC paths share.

ROAS, CPA and revenue per impression are functions of the stages' draws:

    ROAS = (impressions / spend) * CTR * CVR * revenue_per_conversion
    CPA  = 1 / ((impressions / spend) * CTR * CVR)

Arms whose data cannot inform a quantity yet (no impressions, no clicks, no spend; no
orders for the order value) get NaN draws and a named reason instead of a number. An arm
with clicks but no conversions yet keeps its ROAS and revenue per impression: the
conversion rate pins them near zero, so it is compared with the other arms (and can be
seen to trail) rather than left out.
"""

from __future__ import annotations

import time

import numpy as np

from inference.data import FunnelData
from inference.spec import ModelSpec
from inference.summary import Diagnostics, Posterior

__all__ = ["data_notes", "derived_draws", "stage_posterior", "undefined_for"]

NO_CONVERSIONS = "no conversions yet"
NO_REVENUE = "no orders with revenue yet"


def stage_posterior(
    method: str,
    data: FunnelData,
    spec: ModelSpec,
    ctr: np.ndarray,
    cvr: np.ndarray,
    revenue_per_conversion: np.ndarray,
    *,
    seed: int,
    started: float,
) -> Posterior:
    """A ``Posterior`` from per-arm stage draws of shape (n_draws, n_arms).

    A trial with no data at all is marked unreliable ("no data yet"), so nothing acts on it.
    """
    undefined = undefined_for(data)
    draws = derived_draws(
        ctr, cvr, revenue_per_conversion, data.totals().impressions_per_spend, undefined
    )
    diagnostics = (
        Diagnostics() if len(data.arm) else Diagnostics(reliable=False, reasons=("no data yet",))
    )
    return Posterior(
        method=method,
        spec=spec,
        arms=data.arms,
        data_digest=data.digest(),
        draws=draws,
        undefined=undefined,
        diagnostics=diagnostics,
        notes=data_notes(data),
        seconds=time.perf_counter() - started,
        seed=seed,
    )


def undefined_for(data: FunnelData) -> dict[str, dict[int, str]]:
    """Per metric, the arms whose data cannot say anything about it yet, and why."""
    totals = data.totals()
    orders, _ = data.order_totals()
    undefined: dict[str, dict[int, str]] = {}
    for metric, empty, reason in (
        ("ctr", totals.impressions == 0, "no impressions yet"),
        ("cvr", totals.clicks == 0, "no clicks yet"),
        ("revenue_per_conversion", (orders == 0) & (totals.conversions == 0), NO_CONVERSIONS),
        ("revenue_per_conversion", (orders == 0) & (totals.conversions > 0), NO_REVENUE),
    ):
        for arm in np.flatnonzero(empty):
            undefined.setdefault(metric, {})[int(arm)] = reason
    return undefined


def derived_draws(
    ctr, cvr, per_conversion, impressions_per_spend, undefined
) -> dict[str, np.ndarray]:
    """ROAS, CPA and revenue per impression from the funnel stages .

    Columns of undefined arms are set to NaN; ``undefined`` gains the derived metrics.
    """
    for stage in ("ctr", "cvr"):
        for arm, reason in undefined.get(stage, {}).items():
            for derived in ("roas", "cpa", "revenue_per_impression"):
                undefined.setdefault(derived, {}).setdefault(arm, reason)
    no_spend = ~np.isfinite(impressions_per_spend)
    for arm in np.flatnonzero(no_spend):
        for metric in ("roas", "cpa"):
            undefined.setdefault(metric, {})[int(arm)] = "no spend yet"
    for arm, reason in undefined.get("revenue_per_conversion", {}).items():
        # Without conversions, ROAS is what the conversion rate says (about none), whatever
        # an order would be worth; conversions without any revenue leave it unknown.
        if reason != NO_CONVERSIONS:
            for metric in ("roas", "revenue_per_impression"):
                undefined.setdefault(metric, {}).setdefault(arm, reason)
    conversions_per_spend = impressions_per_spend * ctr * cvr
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = {
            "ctr": ctr,
            "cvr": cvr,
            "revenue_per_conversion": per_conversion,
            "revenue_per_impression": ctr * cvr * per_conversion,
            "roas": conversions_per_spend * per_conversion,
            "cpa": 1.0 / conversions_per_spend,
        }
    for metric, arms in undefined.items():
        draws[metric] = draws[metric].copy()
        draws[metric][:, list(arms)] = np.nan
    return draws


def data_notes(data: FunnelData) -> tuple[str, ...]:
    notes = []
    if data.view_through_excess:
        notes.append(
            f"{data.view_through_excess} conversions exceed clicks on their day "
            "(view-through); the conversion rate counts at most one per click"
        )
    return tuple(notes)
