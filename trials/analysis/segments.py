"""Results per segment and per week: ROI per channel, per group, per period in one view.

One function, :func:`grouped_results`, reads a trial's channel rows and fits the funnel
model one level down: each *unit* (an arm's segment, or an arm's ISO week, Monday to
Sunday) stands where an arm stands, and its arm where a channel stands, so the units of one
arm are pooled toward it — a segment or a week with little data is pulled toward its arm,
one with plenty stands on its own. The fast path (``method="exact"``, the default) is the
closed form of that pooling (``inference.funnel.grouped``); ``method="mcmc"`` samples the
full funnel model on the same units (slower, with day-to-day variation).

The arm-level analysis (verdicts, recommendations, reports) never reads these tables: it
sums an arm-day's segments (``trials.domain.merge_segments``), so a file split into
segments analyses exactly as the same file unsplit.

Money is the trial's one currency. Conversions and revenue are the channels' reports
(own orders carry no segment); when the trial's verdict reads own orders, a note says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from trials.domain import DailyResult, ResultSource, Trial
from trials.storage.store import TrialStore

__all__ = ["BY", "GroupedResults", "UnitResult", "grouped_results", "unit_rows", "week_label"]

By = Literal["segment", "week"]
BY: tuple[str, ...] = ("segment", "week")
NO_SEGMENT = "no segment"
SHOWN = ("roas", "cpa", "cvr")


@dataclass(frozen=True)
class UnitResult:
    """One arm's figures in one segment or week: raw totals and pooled posteriors."""

    arm_id: int
    arm: str
    group: str  # the segment ("" for rows without one) or the week ("2026-W36")
    week_start: date | None  # the week's Monday (by week only)
    impressions: int
    clicks: int
    conversions: int
    spend: float
    revenue: float
    days: int
    metrics: dict[str, Any]  # roas, cpa, cvr: inference.summary.Interval

    @property
    def label(self) -> str:
        return self.group or NO_SEGMENT

    @property
    def raw_roas(self) -> float | None:
        return self.revenue / self.spend if self.spend > 0 else None


@dataclass(frozen=True)
class GroupedResults:
    """A trial's units (by segment or by week), in arm order then segment or week."""

    trial: Trial
    by: str
    method: str
    currency: str
    hdi_prob: float
    seed: int
    units: tuple[UnitResult, ...]
    notes: tuple[str, ...] = ()
    diagnostics: Any = None  # inference.summary.Diagnostics (the MCMC path)
    seconds: float = 0.0
    has_segments: bool = False


def week_label(day: date) -> str:
    """The ISO week of ``day``, as "2026-W36" (weeks start on Monday)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def unit_rows(rows: list[DailyResult], by: str) -> dict[tuple[int, str], list[DailyResult]]:
    """The rows of each unit, keyed by (arm id, segment or week label)."""
    units: dict[tuple[int, str], list[DailyResult]] = {}
    for r in rows:
        group = r.segment if by == "segment" else week_label(r.day)
        units.setdefault((r.arm_id, group), []).append(r)
    return units


def grouped_results(
    store: TrialStore,
    trial: Trial,
    *,
    by: str = "segment",
    method: str = "exact",
    spec=None,
    seed: int = 0,
    progress=None,
) -> GroupedResults:
    """Spend, revenue, ROAS, CPA and CVR per arm × segment (``by="segment"``) or per arm ×
    ISO week (``by="week"``), each unit pooled toward its arm (see the module's notes).

    A trial without data gets no units and a note, not an error."""
    from inference.funnel.data import FunnelData
    from inference.funnel.spec import ModelSpec

    if by not in BY:
        raise ValueError(f"by must be one of {BY}")
    if method not in ("exact", "mcmc"):
        raise ValueError("method must be 'exact' or 'mcmc'")
    started = time.perf_counter()
    spec = spec or ModelSpec()
    rows = store.daily_results(trial.id, ResultSource.CHANNEL, segments=True)
    order = {arm.id: i for i, arm in enumerate(trial.arms)}
    if trial.rounds:  # one round (``trial.in_round``): its own days and arms
        rows = [
            r for r in rows if r.arm_id in order and trial.spec.start <= r.day <= trial.spec.end
        ]
    has_segments = any(r.segment for r in rows)
    units = unit_rows(rows, by)
    keys = sorted(units, key=lambda k: (order[k[0]], k[1] == "", k[1].casefold(), k[1]))
    notes = list(_notes(store, trial, by, has_segments, rows))
    base = dict(
        trial=trial,
        by=by,
        method=method,
        currency=trial.spec.currency,
        hdi_prob=spec.hdi_prob,
        seed=seed,
        has_segments=has_segments,
    )
    if not keys:
        notes.append("no data yet: import the trial's daily results first")
        return GroupedResults(**base, units=(), notes=tuple(notes))
    names = {arm.id: arm.name for arm in trial.arms}
    labels = [(names[arm_id], f"{names[arm_id]} · {group or NO_SEGMENT}") for arm_id, group in keys]
    funnel_rows = [
        {
            "arm": i,
            "day": r.day.isoformat(),
            "impressions": r.impressions,
            "clicks": r.clicks,
            "conversions": r.conversions,
            "spend": r.spend,
            "revenue": r.revenue,
        }
        for i, key in enumerate(keys)
        for r in sorted(units[key], key=lambda r: r.day)
    ]
    data = FunnelData.from_rows(labels, funnel_rows)
    diagnostics = None
    if method == "mcmc":
        from inference.funnel.fit import fit_mcmc

        posterior = fit_mcmc(data, spec, seed=seed, progress=progress)
        diagnostics = posterior.diagnostics
    else:
        from inference.funnel.grouped import pooled_posterior

        posterior = pooled_posterior(data, spec, seed=seed)
    totals = data.totals()
    out = []
    for i, (arm_id, group) in enumerate(keys):
        out.append(
            UnitResult(
                arm_id=arm_id,
                arm=names[arm_id],
                group=group,
                week_start=_monday(units[arm_id, group][0].day) if by == "week" else None,
                impressions=int(totals.impressions[i]),
                clicks=int(totals.clicks[i]),
                conversions=int(totals.conversions[i]),
                spend=round(float(totals.spend[i]), 6),
                revenue=round(float(totals.revenue[i]), 6),
                days=len({r.day for r in units[arm_id, group]}),
                metrics={m: posterior.interval(m, i) for m in SHOWN},
            )
        )
    return GroupedResults(
        **base,
        units=tuple(out),
        notes=tuple(notes),
        diagnostics=diagnostics,
        seconds=time.perf_counter() - started,
    )


def _notes(store, trial, by, has_segments, rows) -> list[str]:
    notes = [
        "each segment is pulled toward its arm by how little data it has"
        if by == "segment"
        else "each week is pulled toward its arm by how little data it has (weeks start on Monday)"
    ]
    if by == "segment" and rows and not has_segments:
        notes.append(
            "the trial's rows have no segments: import a file with a segment column "
            "(segment, audience, customer group, region, device, placement) to split them"
        )
    if store.orders(trial.id):
        from trials.analysis.result import load

        if load(store, trial).source == ResultSource.ORDERS:
            notes.append(
                "conversions and revenue here are the channels' reports (own orders carry "
                "no segment); the verdict reads the shop's own orders"
            )
    return notes
