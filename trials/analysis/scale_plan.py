"""A scale plan tracked against the data: each step's actual daily spend beside the plan,
the marginal ROAS at the current step's spend from the arm's response curve, and what
to do next (step up, stop, or hold).

The response curve is the one the trial's analysis fits (``TrialAnalysis.curves``, from
``inference.curve.fit``); the marginal ROAS and the break-even spend are read from its
draws with the curve's own functions (``CurveDraws.marginal`` and
``CurveDraws.break_even_spend``), so there is one definition of each.

The proposal, in this order:

* the plan has ended: what ended it;
* no data for the arm since the plan started: neutral, with the reason;
* fewer days with spend at the current step than the plan's step days: **hold**;
* no usable curve (one spend level only, too few conversions, no revenue, an unreliable
  fit): neutral, with the reason and what the written schedule says next;
* P(marginal ROAS at the current step's planned spend < break-even) ≥ the plan's stop
  probability: **stop**;
* otherwise: **step up** to the next step's daily spend on the next step's first day.

The current step is the step holding the arm's last day with data, so the same data
always give the same answer, whatever day it is read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from trials.domain.scale_plans import PlanStatus, ScalePlan

if TYPE_CHECKING:
    from trials.analysis.result import TrialAnalysis

__all__ = [
    "OFF_PLAN",
    "PlanDay",
    "Proposal",
    "ScaleTracking",
    "StepTracking",
    "track",
    "track_plan",
]

OFF_PLAN = 0.2  # a step's actual daily spend more than 20 % off its plan is flagged
HDI_PROB = 0.94


@dataclass(frozen=True)
class PlanDay:
    day: date
    step: int
    planned_spend: float
    actual_spend: float | None  # None: no row that day


@dataclass(frozen=True)
class StepTracking:
    """One step of the plan so far."""

    index: int
    start: date
    end: date
    planned_daily_spend: float
    days_with_spend: int
    actual_daily_spend: float | None  # mean over the step's days with spend

    @property
    def off_by(self) -> float | None:
        """Actual ÷ planned − 1 (None without spend)."""
        if self.actual_daily_spend is None:
            return None
        return self.actual_daily_spend / self.planned_daily_spend - 1

    @property
    def off_plan(self) -> bool:
        return self.off_by is not None and abs(self.off_by) > OFF_PLAN


@dataclass(frozen=True)
class Band:
    """A posterior median with its 94 % HDI."""

    median: float
    low: float
    high: float


@dataclass(frozen=True)
class Proposal:
    kind: str  # step_up, stop, hold, neutral, ended
    text: str
    next_daily_spend: float | None = None
    on: date | None = None


@dataclass(frozen=True)
class ScaleTracking:
    plan: ScalePlan
    currency: str
    steps: tuple[StepTracking, ...]
    days: tuple[PlanDay, ...]
    current_step: int | None
    marginal: Band | None  # marginal ROAS at the current step's planned spend
    p_below_break_even: float | None
    break_even_spend: Band | None  # where the marginal ROAS falls to break-even
    marginal_curve: tuple[tuple[float, float, float, float], ...]  # spend, median, low, high
    proposal: Proposal
    notes: tuple[str, ...] = ()
    curve_reason: str | None = None  # why there is no usable curve (None when there is)

    @property
    def current(self) -> StepTracking | None:
        if self.current_step is None:
            return None
        return next((s for s in self.steps if s.index == self.current_step), None)

    def as_dict(self, recommendation: str | None = None) -> dict[str, Any]:
        from trials.reports.contract import scale_tracking_dict

        return scale_tracking_dict(self, recommendation)


def _money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}".strip()


def track(
    plan: ScalePlan,
    spend_by_day: Sequence[tuple[date, float]],
    curve: Any,
    *,
    currency: str = "",
    hdi_prob: float = HDI_PROB,
) -> ScaleTracking:
    """Track ``plan`` against the arm's daily spend and its response ``curve``
    (``inference.curve.fit.ResponseCurve``, or None when none was fitted)."""
    days = sorted((d, float(s)) for d, s in spend_by_day if d >= plan.start)
    notes: list[str] = []
    b = plan.break_even_roas
    last = days[-1][0] if days else None
    current = plan.step_of(last) if last is not None else None
    steps = _steps(plan, days, current)
    plan_days = _plan_days(plan, days)
    step = next((s for s in steps if s.index == current), None)
    if step is not None and step.off_plan:
        notes.append(
            f"Step {step.index + 1} spent {_money(step.actual_daily_spend, currency)} a day "
            f"against {_money(step.planned_daily_spend, currency)} planned "
            f"({step.off_by:+.0%}): the curve is read at the planned spend."
        )
    spend_now = plan.step_spend(current) if current is not None else plan.base_daily_spend
    curve_reason = _curve_reason(curve)
    marginal = p_below = crossing = None
    grid: tuple = ()
    if curve_reason is None:
        draws = curve.draws
        m = draws.marginal(spend_now)
        marginal = _band(m, hdi_prob)
        p_below = float((m < b).mean())
        crossing = _band(draws.break_even_spend(b), hdi_prob)
        k = current or 0
        top = min(max(plan.step_spend(k + 2), 1.5 * crossing.median), plan.step_spend(k + 4))
        grid = tuple(
            (float(s), *_band_tuple(draws.marginal(s), hdi_prob))
            for s in _spend_grid(plan.base_daily_spend * 0.5, top)
        )
    proposal = _proposal(plan, current, step, curve_reason, p_below, currency)
    return ScaleTracking(
        plan=plan,
        currency=currency,
        steps=steps,
        days=plan_days,
        current_step=current,
        marginal=marginal,
        p_below_break_even=p_below,
        break_even_spend=crossing,
        marginal_curve=grid,
        proposal=proposal,
        notes=tuple(notes),
        curve_reason=curve_reason,
    )


def _steps(plan: ScalePlan, days, current: int | None) -> tuple[StepTracking, ...]:
    if current is None:
        return ()
    out = []
    for entry in plan.schedule(current + 1):
        spent = [s for d, s in days if entry.contains(d) and s > 0]
        out.append(
            StepTracking(
                entry.index,
                entry.start,
                entry.end,
                entry.daily_spend,
                len(spent),
                sum(spent) / len(spent) if spent else None,
            )
        )
    return tuple(out)


def _plan_days(plan: ScalePlan, days) -> tuple[PlanDay, ...]:
    if not days:
        return ()
    actual = dict(days)
    first, last = plan.start, days[-1][0]
    out = []
    for n in range((last - first).days + 1):
        d = date.fromordinal(first.toordinal() + n)
        k = plan.step_of(d)
        out.append(PlanDay(d, k, plan.step_spend(k), actual.get(d)))
    return tuple(out)


def _curve_reason(curve) -> str | None:
    if curve is None:
        return "no response curve was fitted (the full model's analysis fits one)"
    if getattr(curve, "draws", None) is None or not curve.marginal_now.defined:
        reason = curve.marginal_now.reason or "the curve cannot be fitted yet"
        return f"no response curve yet: {reason}"
    if not curve.reliable:
        return "the response curve's fit is unreliable (" + "; ".join(curve.reasons) + ")"
    return None


def _proposal(plan, current, step, curve_reason, p_below, currency) -> Proposal:
    if not plan.active:
        who = f" by {plan.ended_by}" if plan.ended_by else ""
        why = f": {plan.end_reason}" if plan.end_reason else ""
        return Proposal("ended", f"The plan is {plan.status.value}{who}{why}.")
    if current is None or step is None:
        return Proposal(
            "neutral",
            f"No data for {plan.arm_name} since the plan started on {plan.start:%Y-%m-%d}: "
            f"spend {_money(plan.base_daily_spend, currency)} a day from then and import "
            "the results.",
        )
    nxt = plan.step_entry(current + 1)
    if step.days_with_spend < plan.step_days:
        return Proposal(
            "hold",
            f"Hold at {_money(step.planned_daily_spend, currency)} a day: not enough days at "
            f"this step yet ({step.days_with_spend} of {plan.step_days}).",
        )
    scheduled = (
        f"The written schedule's next step is {_money(nxt.daily_spend, currency)} a day from "
        f"{nxt.start:%Y-%m-%d}; the stop condition can be checked once the curve can be read."
    )
    if curve_reason is not None:
        return Proposal("neutral", f"{curve_reason[0].upper()}{curve_reason[1:]}. {scheduled}")
    if p_below >= plan.stop_probability:
        return Proposal(
            "stop",
            f"Stop: marginal ROAS below break-even {plan.break_even_roas:g} with probability "
            f"{p_below:.0%} ≥ {plan.stop_probability:.0%} at "
            f"{_money(step.planned_daily_spend, currency)} a day; do not step up.",
        )
    return Proposal(
        "step_up",
        f"Step up to {_money(nxt.daily_spend, currency)} a day on {nxt.start:%Y-%m-%d}: "
        f"marginal ROAS is below break-even {plan.break_even_roas:g} with probability only "
        f"{p_below:.0%} (the plan stops at {plan.stop_probability:.0%}).",
        next_daily_spend=nxt.daily_spend,
        on=nxt.start,
    )


def _band_tuple(draws, prob: float) -> tuple[float, float, float]:
    import numpy as np

    from inference.summary import hdi

    finite = np.asarray(draws, dtype=float)
    low, high = hdi(finite, prob)
    return float(np.median(finite)), float(low), float(high)


def _band(draws, prob: float) -> Band:
    return Band(*_band_tuple(draws, prob))


def _spend_grid(low: float, high: float, n: int = 25) -> list[float]:
    if not (math.isfinite(high) and high > low):
        high = low * 4
    return [low + (high - low) * i / (n - 1) for i in range(n)]


def track_plan(analysis: TrialAnalysis, plan: ScalePlan) -> ScaleTracking:
    """Track ``plan`` on the trial's one analysis (its data and its response curves)."""
    spend = [(r.day, r.spend) for r in analysis.data.daily if r.arm_id == plan.arm_id]
    curve = (analysis.curves or {}).get(plan.arm_id)
    return track(plan, spend, curve, currency=analysis.trial.spec.currency)


def end_status(tracking: ScaleTracking) -> PlanStatus:
    """How ending the plan now is recorded: *finished* when its stop condition is met,
    *stopped* (by hand) otherwise."""
    return PlanStatus.FINISHED if tracking.proposal.kind == "stop" else PlanStatus.STOPPED


def suggested_start(analysis_or_data, arm_id: int) -> tuple[float | None, date | None]:
    """What a new plan for ``arm_id`` starts from: the arm's median daily spend over its
    last 7 days with spend (the base), and the day after its last day with data."""
    data = getattr(analysis_or_data, "data", analysis_or_data)
    rows = sorted((r.day, r.spend) for r in data.daily if r.arm_id == arm_id)
    spent = [s for _, s in rows if s > 0][-7:]
    if not spent:
        return None, None
    ordered = sorted(spent)
    mid = len(ordered) // 2
    base = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return round(base, 2), date.fromordinal(rows[-1][0].toordinal() + 1)


def end_plan(store, tracking: ScaleTracking, reason: str) -> ScalePlan:
    """End the tracked plan: *finished* when its stop condition is met now, else *stopped*."""
    plan = tracking.plan
    return store.end_scale_plan(plan.trial_id, plan.id, end_status(tracking), reason)
