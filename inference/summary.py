"""Posterior results as plain data: per-arm draws of each quantity, their summaries, and
the sampler's diagnostics. Shared by the exact and the MCMC paths."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from inference.funnel.spec import ModelSpec

__all__ = ["METRICS", "Diagnostics", "Interval", "Posterior", "hdi", "pooled"]

# Per-arm quantities every posterior carries, as draws of shape (n_draws, n_arms).
METRICS = ("ctr", "cvr", "revenue_per_conversion", "roas", "cpa", "revenue_per_impression")


@dataclass(frozen=True)
class Interval:
    """A posterior mean with its highest-density interval; NaN with a reason when undefined."""

    mean: float
    low: float
    high: float
    reason: str | None = None
    # A caveat on a defined interval (e.g. too few days to learn day-to-day variation).
    note: str | None = None

    @property
    def defined(self) -> bool:
        return math.isfinite(self.mean)

    def as_dict(self) -> dict:
        def clean(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        out = {"mean": clean(self.mean), "hdi_low": clean(self.low), "hdi_high": clean(self.high)}
        if self.reason:
            out["reason"] = self.reason
        if self.note:
            out["note"] = self.note
        return out


def hdi(draws: np.ndarray, prob: float) -> tuple[float, float]:
    """Narrowest interval holding ``prob`` of the draws (per column for 2-D input).

    For sorted draws x_(1) <= ... <= x_(n) and k = ceil(prob * n), the HDI is the
    window [x_(i), x_(i+k-1)] of least width.
    """
    x = np.sort(np.asarray(draws, dtype=float), axis=0)
    n = x.shape[0]
    k = min(n, max(1, math.ceil(prob * n)))
    widths = x[k - 1 :] - x[: n - k + 1]
    start = np.argmin(widths, axis=0)
    if x.ndim == 1:
        return float(x[start]), float(x[start + k - 1])
    cols = np.arange(x.shape[1])
    return x[start, cols], x[start + k - 1, cols]


@dataclass(frozen=True)
class Diagnostics:
    """Sampler health. ``reliable`` is False, with reasons, when any gate fails."""

    r_hat_max: float | None = None
    ess_bulk_min: float | None = None
    ess_tail_min: float | None = None
    divergences: int = 0
    ebfmi_min: float | None = None
    reliable: bool = True
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        def clean(x):
            return None if x is None or not math.isfinite(x) else round(float(x), 4)

        return {
            "r_hat_max": clean(self.r_hat_max),
            "ess_bulk_min": None if clean(self.ess_bulk_min) is None else round(self.ess_bulk_min),
            "ess_tail_min": None if clean(self.ess_tail_min) is None else round(self.ess_tail_min),
            "divergences": int(self.divergences),
            "ebfmi_min": clean(self.ebfmi_min),
            "reliable": self.reliable,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, eq=False)
class Posterior:
    """Draws of every per-arm quantity, with how they were obtained.

    ``draws[metric]`` has shape (n_draws, n_arms). Where a quantity is undefined for an
    arm (no spend, no conversions yet), its column is NaN and ``undefined[metric][arm]``
    says why, so callers get a neutral answer with a named reason instead of a crash.
    """

    method: str  # "exact" or "mcmc"
    spec: ModelSpec
    arms: tuple[str, ...]
    data_digest: str
    draws: dict[str, np.ndarray]
    undefined: dict[str, dict[int, str]] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    notes: tuple[str, ...] = ()
    # Per metric and arm, a caveat attached to that interval (``Interval.note``).
    metric_notes: dict[str, dict[int, str]] = field(default_factory=dict)
    seconds: float = 0.0
    seed: int | None = None
    # (chains, draws per chain) of each sampler run whose draws are stacked in ``draws``,
    # run after run and chain after chain; empty when the draws are independent.
    runs: tuple[tuple[int, int], ...] = ()
    # Intervals computed exactly (the exact preview), per metric and arm: ``interval``
    # returns these instead of summarising the draws.
    intervals: dict[str, tuple[Interval, ...]] = field(default_factory=dict)

    @property
    def n_draws(self) -> int:
        return next(iter(self.draws.values())).shape[0]

    def interval(self, metric: str, arm: int) -> Interval:
        if metric in self.intervals:
            return self.intervals[metric][arm]
        reason = self.undefined.get(metric, {}).get(arm)
        column = self.draws[metric][:, arm]
        if reason or not np.isfinite(column).all():
            return Interval(math.nan, math.nan, math.nan, reason or "not defined for this arm")
        low, high = hdi(column, self.spec.hdi_prob)
        note = self.metric_notes.get(metric, {}).get(arm)
        return Interval(float(column.mean()), low, high, note=note)

    def arm_summary(self, arm: int) -> dict[str, Interval]:
        return {metric: self.interval(metric, arm) for metric in METRICS}


def pooled(posteriors: list[Posterior], note: str = "") -> Posterior:
    """The draws of several runs on the same data as one posterior (the first run's
    settings and seed): draws stacked run after run, ``runs`` concatenated, checks combined
    (the worst R-hat and E-BFMI, ESS added up over runs as a lower bound of the pooled
    quantities' least ESS, every divergence and reason). ``note`` is added to the notes."""
    first = posteriors[0]
    if len(posteriors) == 1 and not note:
        return first
    if any(p.data_digest != first.data_digest for p in posteriors):
        raise ValueError("only runs on the same data can be pooled")
    ds = [p.diagnostics for p in posteriors]

    def worst(values, pick):
        known = [v for v in values if v is not None and math.isfinite(v)]
        return pick(known) if known else None

    def added(values):
        known = [v for v in values if v is not None and math.isfinite(v)]
        return sum(known) if len(known) == len(values) else None

    diagnostics = Diagnostics(
        r_hat_max=worst([d.r_hat_max for d in ds], max),
        ess_bulk_min=added([d.ess_bulk_min for d in ds]),
        ess_tail_min=added([d.ess_tail_min for d in ds]),
        divergences=sum(d.divergences for d in ds),
        ebfmi_min=worst([d.ebfmi_min for d in ds], min),
        reliable=all(d.reliable for d in ds),
        reasons=tuple(dict.fromkeys(r for d in ds for r in d.reasons)),
    )
    independent = all(not p.runs for p in posteriors)
    return Posterior(
        method=first.method,
        spec=first.spec,
        arms=first.arms,
        data_digest=first.data_digest,
        draws={m: np.concatenate([p.draws[m] for p in posteriors]) for m in first.draws},
        undefined=first.undefined,
        diagnostics=diagnostics,
        notes=tuple(dict.fromkeys(n for p in posteriors for n in p.notes))
        + ((note,) if note else ()),
        metric_notes=first.metric_notes,
        seconds=sum(p.seconds for p in posteriors),
        seed=first.seed,
        runs=() if independent else tuple(r for p in posteriors for r in p.runs),
    )
