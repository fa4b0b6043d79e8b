"""The next round's budget split for a trial, bounded by what its data can carry (see
``inference.decisions.allocate`` for the optimisation)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from inference.decisions import Allocation, allocate
from trials.domain import Trial, UserError

if TYPE_CHECKING:
    from trials.analysis.decisions import TrialDecision

__all__ = [
    "LEARNING_FLOOR",
    "MAX_MULTIPLE",
    "ROUND_DAYS",
    "budget_split",
    "split_notes",
    "with_split",
]

ROUND_DAYS = 7  # the next round's length, for the budget split's caps and floors
MAX_MULTIPLE = 2.0  # the most an arm may take, as a multiple of its spend at today's pace
LEARNING_FLOOR = 0.5  # an arm still under test keeps this share of its pace


def budget_split(
    trial,
    posterior,
    totals,
    budget,
    low=0.0,
    high=None,
    risk=0.5,
    seed=0,
    *,
    recommendations: dict[int, str] | None = None,
    curves: dict | None = None,
    days: int = ROUND_DAYS,
    max_multiple: float = MAX_MULTIPLE,
):
    """The next round's split of ``budget`` (over ``days``) across the arms with a ROAS
    estimate, and their ids; raises ValueError on impossible bounds.

    Honest by construction: no arm gets more than ``max_multiple`` times its spend at
    today's daily pace, or than its response curve supports where it has one (one step
    up when the next step likely pays, today's level when it may not, the break-even level
    when today's last unit likely loses), arms told to stop or fix
    get nothing, arms still under test keep ``LEARNING_FLOOR`` of their pace (unless every
    arm probably loses money), and the split may leave money unspent when spending it
    would likely lose money. Expected revenue and P(loss) carry diminishing returns
    beyond today's pace (``inference.decisions.allocate``). Never on the exact preview
    (its arms' recommendations read "preview"): UserError.
    """
    if "preview" in (recommendations or {}).values():
        raise UserError("a budget split needs the full model, not the exact preview")
    roas = posterior.draws["roas"]
    usable = [
        i
        for i in range(len(trial.arms))
        if np.isfinite(roas[:, i]).all() and i not in posterior.undefined.get("roas", {})
    ]
    if not usable:
        return None, ()
    arms = [trial.arms[i] for i in usable]
    pace = np.array(
        [totals[a.id].spend / totals[a.id].days * days if totals[a.id].days else 0.0 for a in arms]
    )
    floors, caps = _bounds(
        arms, pace, budget, low, high, recommendations or {}, curves, days, max_multiple
    )
    current = [max(totals[a.id].spend, 0.0) for a in arms]
    result = allocate(
        roas[:, usable],
        budget,
        break_even=trial.spec.break_even_roas,
        low=floors,
        high=caps,
        current=current if sum(current) > 0 else None,
        risk=risk,
        seed=seed,
        pace=pace,
        spend_less=True,
    )
    return result, tuple(a.id for a in arms)


def _bounds(
    arms, pace, budget, low, high, recs: dict[int, str], curves, days: int, max_multiple: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each arm's floor and cap for the split (``pace``: its spend over ``days`` at today's
    daily pace): nothing for an arm told to stop or fix; the user's minimums, which must
    hold (ValueError when they cannot); a learning floor for arms still under test, scaled
    down to what the budget leaves; caps from the user's maximums, ``max_multiple`` of the
    pace and the response curves."""
    user_low = np.broadcast_to(np.asarray(low, dtype=float), (len(arms),))
    user_high = np.broadcast_to(
        np.asarray(budget if high is None else high, dtype=float), (len(arms),)
    )
    stopped = np.array([recs.get(a.id) in ("stop", "fix_creative", "fix_landing") for a in arms])
    testing = np.array([recs.get(a.id) in ("keep_testing", "equal") for a in arms])
    asked = np.where(stopped, 0.0, user_low)  # the user's minimums, which must hold
    if asked.sum() > budget + 1e-9:
        raise ValueError(
            f"the bounds cannot hold a budget of {budget:,.2f}: minimums add up to "
            f"{asked.sum():,.2f}"
        )
    reach = np.array(
        [
            _curve_reach(curves, a.id, days, max_multiple * p)
            for a, p in zip(arms, pace, strict=True)
        ]
    )
    caps = np.where(stopped, 0.0, np.maximum(np.minimum(user_high, reach), asked))
    learning = np.where(testing, np.minimum(LEARNING_FLOOR * pace, caps), 0.0)
    room = budget - asked.sum()
    extra = np.maximum(learning - asked, 0.0)
    if extra.sum() > room:
        extra *= room / extra.sum()
    return asked + extra, caps


def _curve_reach(curves: dict | None, arm_id: int, days: int, default: float) -> float:
    """The most an arm's response curve supports over ``days`` (``default`` without one)."""
    from inference.curve.fit import STEP_CONFIDENCE

    curve = (curves or {}).get(arm_id)
    if curve is None or not curve.reliable or not curve.marginal_now.defined:
        return default
    if (curve.p_next_above_break_even or 0.0) >= STEP_CONFIDENCE:
        daily = curve.next_spend
    elif (curve.p_now_above_break_even or 0.0) < 1 - STEP_CONFIDENCE:
        be = curve.break_even_spend.mean
        daily = min(be, curve.current_spend) if math.isfinite(be) else 0.0
    else:
        daily = curve.current_spend
    return min(max(daily, 0.0) * days, default)


def split_notes(trial: Trial, allocation: Allocation, arm_ids: tuple[int, ...]) -> list[str]:
    """Plain sentences on what bounded the split: money left unspent, caps, floors."""
    cur = trial.spec.currency
    out = []
    if allocation.unspent >= 0.01:
        open_arms = [
            (b, c) for b, c in zip(allocation.budgets, allocation.caps, strict=True) if c != 0
        ]
        full = [c is not None and b >= c - 0.01 for b, c in open_arms]
        if open_arms and all(full):
            why = "every arm that may take money is at its cap (what its data can carry)"
        elif any(full):
            why = (
                "the arms at their caps cannot take more, and more on the others would "
                "likely lose money"
            )
        else:
            why = "more would likely lose money"
        out.append(
            f"Spends {allocation.budget - allocation.unspent:,.2f} of {allocation.budget:,.2f} "
            f"{cur}: {why}."
        )
    for arm_id, budget, cap, floor in zip(
        arm_ids, allocation.budgets, allocation.caps, allocation.floors, strict=True
    ):
        name = trial.arm(arm_id).name
        if cap is not None and cap == 0:
            out.append(f"{name}: nothing, as its recommendation is to stop or fix it first.")
        elif cap is not None and budget >= cap - 0.01:
            out.append(
                f"{name}: capped at {cap:,.2f} {cur}, what its response curve supports or at "
                f"most {MAX_MULTIPLE:g}× its spend at today's pace."
            )
        elif floor > 0 and budget <= floor + 0.01:
            out.append(f"{name}: kept at {floor:,.2f} {cur} so its test can still conclude.")
    return out


def with_split(
    decision: TrialDecision,
    trial: Trial,
    posterior,
    totals,
    budget: float,
    *,
    low: float = 0.0,
    high: float | None = None,
    risk: float = 0.5,
    seed: int = 0,
    curves: dict | None = None,
) -> TrialDecision:
    """``decision`` with the next round's split of ``budget`` by its recommendations: the
    allocation, the arms it covers and what bounded it in words. The one route to a
    split (the CLI's ``--budget``, the pages, the reports); raises ValueError on bounds
    that cannot hold the budget."""
    allocation, arms = budget_split(
        trial,
        posterior,
        totals,
        budget,
        low,
        high,
        risk,
        seed,
        recommendations={d.arm_id: d.recommendation for d in decision.arms},
        curves=curves,
    )
    notes = tuple(split_notes(trial, allocation, arms)) if allocation is not None else ()
    return replace(decision, allocation=allocation, allocated_arms=arms, allocation_notes=notes)
