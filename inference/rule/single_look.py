"""One real look at a trial: its quantities and counts as a :class:`~inference.rule.batch
.Batch` of one, judged by the one rule (``inference.rule``) into a :class:`Verdict`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference.rule.bars import GATES, VERDICTS, Rule
from inference.rule.batch import Batch, judge
from inference.rule.draws import Quantities

__all__ = ["Verdict", "look", "verdict"]


@dataclass(frozen=True)
class Verdict:
    """The rule's answer for the trial and the numbers it was reached with."""

    code: str  # one of VERDICTS
    leader: int | None
    winner_threshold: float
    information: float  # share of the planned days with data at this look
    trailing: tuple[int, ...]  # arms clearly behind (out of contention)
    losing: tuple[int, ...]  # arms that probably lose money
    gates: dict[str, bool]
    blocked_by: tuple[str, ...]  # what keeps the leader from ``scale``: gates or conditions

    @property
    def met(self) -> bool:
        """The rule reached a verdict (a winner, equal arms, or every arm losing money)."""
        return self.code != "keep_testing"


def look(
    q: Quantities | None,
    *,
    days: Sequence[int],
    conversions: Sequence[float],
    reliable: bool = True,
    p_profit: Sequence[float | None] | None = None,
    information: float = 1.0,
    comparable: Sequence[bool] | None = None,
) -> Batch:
    """One real look as a :class:`Batch` of one (see :func:`verdict` for the arguments)."""
    k = len(days)
    comparable = np.ones(k, bool) if comparable is None else np.asarray(comparable, bool)
    given = [None] * k if p_profit is None else list(p_profit)
    profit = [math.nan if p is None else p for p in given]
    if q is None:
        q = Quantities(np.zeros(k), np.full(k, 0.5), math.inf, 0.0, 0, 0.0)
        comparable = np.zeros(k, bool)
    return Batch(
        p_best=np.asarray(q.p_best, float)[None],
        p_beats_leader=np.asarray(q.p_beats_leader, float)[None],
        relative_loss=np.asarray([q.relative_loss], float),
        p_equal=np.asarray([q.p_equal], float),
        days=np.asarray(days, float)[None],
        conversions=np.asarray(conversions, float)[None],
        reliable=np.asarray([reliable]),
        p_profit=np.asarray(profit, float)[None],
        information=np.asarray([information], float),
        comparable=comparable[None],
        p_best_error=np.asarray([q.p_best_error], float),
    )


def verdict(
    q: Quantities | None,
    rule: Rule,
    *,
    days: Sequence[int],
    conversions: Sequence[float],
    reliable: bool = True,
    p_profit: Sequence[float | None] | None = None,
    information: float = 1.0,
    comparable: Sequence[bool] | None = None,
) -> Verdict:
    """The trial's verdict from its quantities ``q`` (None: fewer than two comparable arms).

    ``days`` and ``conversions`` per arm are those the rule counts; ``p_profit`` per arm is
    P(ROAS > break-even) (None where revenue says nothing); ``comparable`` marks arms with
    a defined metric (the others have no estimate yet and keep the trial in testing).
    """
    batch = look(
        q,
        days=days,
        conversions=conversions,
        reliable=reliable,
        p_profit=p_profit,
        information=information,
        comparable=comparable,
    )
    out = judge(batch, rule)
    code = VERDICTS[int(out["code"][0])]
    gates = {g: bool(out[f"gate_{g}"][0]) for g in GATES}
    blocked = [g for g in GATES if not gates[g]]
    if not out["compared"][0]:
        blocked.append("comparison")
    blocked += [
        c for c in ("probability", "expected_loss", "profit") if not out[f"condition_{c}"][0]
    ]
    return Verdict(
        code=code,
        leader=int(out["leader"][0]) if batch.comparable.sum() >= 2 else None,
        winner_threshold=float(out["winner_threshold"][0]),
        information=float(information),
        trailing=tuple(int(i) for i in np.flatnonzero(out["trailing"][0])),
        losing=tuple(int(i) for i in np.flatnonzero(out["losing"][0])),
        gates=gates,
        blocked_by=() if code == "scale" else tuple(blocked),
    )
