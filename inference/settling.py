"""Whether a verdict is settled: another run of the sampler could not change it.

The rule compares estimated probabilities with bars: the leader's P(best) with the winner
threshold w, each arm's P(better than the leader) with 1 - w (clearly behind), the
leader's relative expected loss with its threshold, P(every arm equal) with the rule's
probability, each arm's P(ROAS > break-even) with ``profit_confidence`` (scale) and
1 - ``profit_confidence`` (loses money). Each estimate carries a Monte Carlo error e
(``inference.montecarlo``).

A comparison is *close* when its estimate lies within k = ``SETTLED_ERRORS`` errors of a
bar (a probability's error taken at the bar when that is larger, as a score test does:
an estimate of 0.99 against a bar of 0.975 has the spread it would have at 0.975).
The verdict is **settled** when the rule's answer (the verdict, its leader, the arms
clearly behind and those losing money) is the same at every corner of the box the close
estimates span, each at its estimate - k e or + k e (the others at their estimates). Far
from every bar nothing is close and the verdict is settled at once; a close comparison
that cannot change the answer (P(best) on the bar while a gate fails) does not unsettle it.

An unsettled verdict calls for more draws (``trials.analysis.settle`` orchestrates them); when the
draws run out, the rule's conservative answer is to keep testing, saying how close it was.
The margin reported is the leader's P(best) minus the bar, with its error.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from inference.montecarlo import error_at
from inference.rule.bars import SETTLED_ERRORS, VERDICTS, Rule
from inference.rule.batch import judge
from inference.rule.draws import Quantities
from inference.rule.single_look import look

__all__ = ["MAX_CLOSE", "CloseCall", "Settling", "settle", "settle_seed"]

MAX_CLOSE = 10  # more close comparisons than this (2^10 corners) count as unsettled
SEED_STREAM = 0x5E771E  # keeps the settling runs' seeds apart from other derived seeds


def settle_seed(seed: int, run: int) -> int:
    """The seed of settling run ``run`` (1, 2, ...) of a fit started with ``seed``:
    fixed by the two, independent of other runs' seeds."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, SEED_STREAM, int(run)])
    return int(state.generate_state(1, np.uint32)[0])


@dataclass(frozen=True)
class CloseCall:
    """One comparison of the rule whose estimate lies within k errors of its bar."""

    quantity: str  # p_best, p_beats_leader, relative_loss, p_equal, p_profit
    arm: int | None  # index of the arm it is about (None: the whole trial)
    value: float
    error: float  # Monte Carlo error; of a probability, at the bar when that is larger
    bar: float

    @property
    def errors_away(self) -> float:
        """How many Monte Carlo errors separate the estimate from the bar."""
        return abs(self.value - self.bar) / self.error if self.error > 0 else math.inf


@dataclass(frozen=True)
class Settling:
    """Whether the verdict is settled, and how close it was."""

    settled: bool
    close: tuple[CloseCall, ...]  # close comparisons that can change the answer
    margin: float | None  # the leader's P(best) minus the winner threshold
    margin_error: float | None  # the Monte Carlo error of that P(best)
    trailing: tuple[int, ...] = ()  # arms clearly behind at every corner
    losing: tuple[int, ...] = ()  # arms losing money at every corner


def settle(
    q: Quantities | None,
    rule: Rule,
    *,
    days: Sequence[int],
    conversions: Sequence[float],
    reliable: bool = True,
    p_profit: Sequence[float | None] | None = None,
    p_profit_error: Sequence[float | None] | None = None,
    information: float = 1.0,
    comparable: Sequence[bool] | None = None,
    k: float = SETTLED_ERRORS,
) -> Settling:
    """Is the verdict on ``q`` settled within ``k`` Monte Carlo errors? (The arguments
    are :func:`inference.rule.verdict`'s, with each P(ROAS > break-even)'s error.)"""
    base = look(
        q,
        days=days,
        conversions=conversions,
        reliable=reliable,
        p_profit=p_profit,
        information=information,
        comparable=comparable,
    )
    base = replace(base, p_best_error=None)  # the corners are compared exactly
    first = judge(base, rule)
    w = float(first["winner_threshold"][0])
    if q is None:
        return Settling(True, (), None, None)
    leader = int(first["leader"][0])
    calls = _calls(q, rule, base, leader, w, p_profit_error)
    close = [c for c in calls if any(abs(c.value - b) < k * c.error for b in _bars(c, rule))]
    margin = float(q.p_best[leader]) - w
    outcome = _outcomes(base, rule, [], k)
    stable = _stable(outcome)
    if not close:
        return Settling(True, (), margin, q.p_best_error, *stable)
    if len(close) > MAX_CLOSE:
        return Settling(False, tuple(close), margin, q.p_best_error, *stable)
    corners = _outcomes(base, rule, close, k)
    stable = _stable(corners)
    if all(o == corners[0] for o in corners):
        return Settling(True, (), margin, q.p_best_error, *stable)
    # Name the comparisons that change the answer on their own (or all of them).
    deciding = [c for c in close if len(set(_outcomes(base, rule, [c], k))) > 1]
    return Settling(False, tuple(deciding or close), margin, q.p_best_error, *stable)


def _calls(q, rule, base, leader, w, p_profit_error) -> list[CloseCall]:
    comparable = base.comparable[0]
    k = len(comparable)
    calls = [
        CloseCall("p_best", leader, float(q.p_best[leader]), q.p_best_error, w),
        CloseCall(
            "relative_loss",
            None,
            float(q.relative_loss),
            q.relative_loss_error,
            rule.expected_loss_threshold,
        ),
        CloseCall("p_equal", None, float(q.p_equal), q.p_equal_error, rule.probability_threshold),
    ]
    beats_error = q.p_beats_error if q.p_beats_error is not None else np.zeros(k)
    for i in range(k):
        if i != leader and comparable[i]:
            value = float(q.p_beats_leader[i])
            calls.append(CloseCall("p_beats_leader", i, value, float(beats_error[i]), 1 - w))
    profits = base.p_profit[0]
    errors = list(p_profit_error or [None] * k)
    for i in range(k):
        if np.isfinite(profits[i]) and errors[i]:
            calls.append(
                CloseCall(
                    "p_profit", i, float(profits[i]), float(errors[i]), rule.profit_confidence
                )
            )
    # Probabilities are judged with their error at the bar when that is larger (see
    # ``inference.montecarlo.error_at``).
    calls = [
        c
        if c.quantity == "relative_loss"
        else replace(c, error=max(error_at(b, c.value, c.error) for b in _bars(c, rule)))
        for c in calls
    ]
    return [c for c in calls if c.error > 0 and math.isfinite(c.value)]


def _bars(call: CloseCall, rule: Rule) -> tuple[float, ...]:
    if call.quantity == "p_profit":
        return (rule.profit_confidence, 1 - rule.profit_confidence)
    return (call.bar,)


def _outcomes(base, rule: Rule, close: list[CloseCall], k: float) -> list[tuple]:
    """The rule's answer (verdict, leader, clearly behind, losing money) at every corner
    of the close comparisons' box."""
    corners = list(itertools.product((-1.0, 1.0), repeat=len(close))) or [()]
    n = len(corners)
    arrays = {
        name: np.repeat(getattr(base, name), n, axis=0)
        for name in ("p_best", "p_beats_leader", "relative_loss", "p_equal", "p_profit")
    }
    for j, call in enumerate(close):
        signs = np.array([c[j] for c in corners])
        value = call.value + signs * k * call.error
        if call.quantity == "relative_loss":
            arrays["relative_loss"][:] = np.maximum(value, 0.0)
        elif call.quantity == "p_equal":
            arrays["p_equal"][:] = np.clip(value, 0.0, 1.0)
        else:
            arrays[call.quantity][:, call.arm] = np.clip(value, 0.0, 1.0)
    batch = replace(
        base,
        **arrays,
        **{
            name: np.repeat(getattr(base, name), n, axis=0)
            for name in ("days", "conversions", "reliable", "information", "comparable")
        },
    )
    out = judge(batch, rule)
    return [
        (
            VERDICTS[int(out["code"][i])],
            int(out["leader"][i]),
            tuple(np.flatnonzero(out["trailing"][i]).tolist()),
            tuple(np.flatnonzero(out["losing"][i]).tolist()),
        )
        for i in range(n)
    ]


def _stable(outcomes: list[tuple]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Arms clearly behind, and arms losing money, at every corner."""
    trailing = set.intersection(*(set(o[2]) for o in outcomes))
    losing = set.intersection(*(set(o[3]) for o in outcomes))
    return tuple(sorted(trailing)), tuple(sorted(losing))
