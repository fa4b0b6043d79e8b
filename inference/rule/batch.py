"""The rule over a batch of looks at once (simulated trials x days, or one real look):
the one implementation of the rule stated in ``inference.rule``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.rule.bars import SETTLED_ERRORS, VERDICTS, Rule, winner_threshold

__all__ = ["Batch", "judge"]


@dataclass(frozen=True)
class Batch:
    """The rule's inputs for B looks at once (simulated trials x days, or one real look).

    Arrays are shaped (B, k) per arm or (B,) per look; ``p_profit`` is NaN where revenue
    says nothing; ``comparable`` is False for arms without a defined metric.
    """

    p_best: np.ndarray
    p_beats_leader: np.ndarray
    relative_loss: np.ndarray
    p_equal: np.ndarray
    days: np.ndarray
    conversions: np.ndarray
    reliable: np.ndarray
    p_profit: np.ndarray
    information: np.ndarray
    comparable: np.ndarray
    p_best_error: np.ndarray | None = None  # Monte Carlo error of P(best) (None: exact)


@dataclass(frozen=True)
class _Arms:
    """Per look and arm (B, k), or per look (B,) for ``reliable``: what each arm shows."""

    enough_days: np.ndarray  # min_days of data
    reliable: np.ndarray  # the look's fit is reliable (B,)
    has_profit: np.ndarray  # revenue gives a P(ROAS > break-even)
    losing: np.ndarray  # probably loses money (after min_days, on a reliable fit)
    trailing: np.ndarray  # clearly behind the leader: out of contention


def judge(batch: Batch, rule: Rule) -> dict[str, np.ndarray]:
    """The rule over a batch of looks: verdict index into VERDICTS per look, and the masks
    it was reached with. The one implementation of the rule (see ``inference.rule``)."""
    b = batch
    k = b.p_best.shape[-1]
    p_best = np.where(b.comparable, b.p_best, -1.0)
    leader = p_best.argmax(axis=-1)
    w = np.broadcast_to(
        winner_threshold(
            rule.probability_threshold, k, b.information, rule.planned_days, rule.min_days
        ),
        leader.shape,
    )
    arms = _arms(b, rule, leader, w)
    gates, compared = _gates(b, rule, arms)
    conditions = _conditions(b, rule, p_best, leader, w)
    code = _code(b, rule, arms, gates, compared, conditions)
    return {
        "code": code,
        "leader": leader,
        "winner_threshold": w,
        "trailing": arms.trailing,
        "losing": arms.losing,
        "compared": compared,
        **{f"gate_{g}": v for g, v in gates.items()},
        **{f"condition_{c}": v for c, v in conditions.items()},
    }


def _arms(b: Batch, rule: Rule, leader: np.ndarray, w: np.ndarray) -> _Arms:
    """Which arms have their days, lose money, or are clearly behind the ``leader``: an arm
    (not the leader, comparable, with min_days on a reliable fit) whose P(better than the
    leader) is at most 1 - ``w``."""
    enough_days = b.days >= rule.min_days
    reliable = np.asarray(b.reliable, dtype=bool)
    has_profit = np.isfinite(b.p_profit)
    losing = (
        has_profit & (b.p_profit < 1 - rule.profit_confidence) & enough_days & reliable[:, None]
    )
    is_leader = np.zeros_like(b.comparable)
    is_leader[np.arange(len(leader)), leader] = True
    trailing = (
        ~is_leader
        & b.comparable
        & enough_days
        & reliable[:, None]
        & (b.p_beats_leader <= (1 - w)[:, None])
    )
    return _Arms(enough_days, reliable, has_profit, losing, trailing)


def _gates(b: Batch, rule: Rule, arms: _Arms) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The gates per look (GATES: every contender has min_days and the conversions, and the
    fit is reliable) and whether the contenders can be compared (all comparable, >= 2)."""
    contender = ~arms.trailing
    gates = {
        "min_days": np.all(arms.enough_days | ~contender, axis=-1),
        "min_conversions": np.all(
            (b.conversions >= rule.min_conversions_per_arm) | ~contender, axis=-1
        ),
        "reliable_fit": arms.reliable,
    }
    compared = np.all(b.comparable | ~contender, axis=-1) & (b.comparable.sum(axis=-1) >= 2)
    return gates, compared


def _conditions(
    b: Batch, rule: Rule, p_best: np.ndarray, leader: np.ndarray, w: np.ndarray
) -> dict[str, np.ndarray]:
    """The leader's conditions for ``scale`` per look: P(best) settled above ``w``, the
    expected loss within the rule's threshold, and (where revenue is known) profit."""
    rows = np.arange(len(leader))
    lead_profit = b.p_profit[rows, leader]
    error = np.zeros(len(leader)) if b.p_best_error is None else b.p_best_error
    return {
        # Settled: the bar is cleared by SETTLED_ERRORS Monte Carlo errors, so another run
        # of the sampler would not turn the verdict back.
        "probability": p_best[rows, leader] - SETTLED_ERRORS * error >= w,
        "expected_loss": b.relative_loss <= rule.expected_loss_threshold,
        "profit": ~np.isfinite(lead_profit) | (lead_profit >= rule.profit_confidence),
    }


def _code(
    b: Batch,
    rule: Rule,
    arms: _Arms,
    gates: dict[str, np.ndarray],
    compared: np.ndarray,
    conditions: dict[str, np.ndarray],
) -> np.ndarray:
    """The verdict's index into VERDICTS per look: ``stop_all`` over ``scale`` over
    ``equal`` over ``keep_testing``."""
    gates_ok = gates["min_days"] & gates["min_conversions"] & gates["reliable_fit"] & compared
    stop_all = (
        arms.has_profit.any(axis=-1)
        & np.all(arms.losing | ~arms.has_profit, axis=-1)
        & arms.enough_days.all(axis=-1)
        & gates["reliable_fit"]
    )
    scale = (
        gates_ok & conditions["probability"] & conditions["expected_loss"] & conditions["profit"]
    )
    equal = gates_ok & ~arms.trailing.any(axis=-1) & (b.p_equal >= rule.probability_threshold)
    code = np.full(len(compared), VERDICTS.index("keep_testing"))
    code = np.where(equal, VERDICTS.index("equal"), code)
    code = np.where(scale, VERDICTS.index("scale"), code)
    return np.where(stop_all, VERDICTS.index("stop_all"), code)
