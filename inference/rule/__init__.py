"""The pre-registered decision rule, applied to a posterior: one verdict for the whole trial.

This module is the single definition of "the rule is met". The analysis of a running
trial and the planner's simulations both call :func:`verdict`, so what a plan promises
is what ``analyze`` does. Everything is plain numbers in, plain numbers out.

The rule, for a trial of k arms on a primary metric X (higher is better; CPA is compared
the other way round):

* **Gates.** Every arm still in contention has ``min_days`` days of data and
  ``min_conversions_per_arm`` conversions, and the fit is reliable. An arm *clearly
  behind* (below) is out of contention and need not reach the conversions, so a
  zero-conversion arm cannot hold a trial hostage; it still counts in P(best) and in k.
* **Clearly behind.** Arm i, with ``min_days`` of data and a reliable fit, is clearly
  behind the leader L when P(X_i > X_L) <= 1 - w, with w the winner threshold below.
* **Scale** (a winner). The leader's P(best) >= w with three Monte Carlo errors to spare
  (a settled verdict: another run of the sampler would not overturn it; the analysis
  draws more near the bar, ``inference.settling``), its expected loss
  E[max_j X_j - X_L] / E[X_L] <= ``expected_loss_threshold``, and, where revenue is
  known, P(ROAS_L > break-even) >= ``profit_confidence``.
* **Equal.** P(every arm within ``equivalence_margin`` of the leader, |X_i / X_L - 1| <=
  m) >= ``probability_threshold``: a region of practical equivalence on the lift, not a
  P(best) that falls just short.
* **Stop all.** Every arm with a ROAS estimate returns above break-even with probability
  below 1 - ``profit_confidence`` (each probably loses money), after ``min_days``, on a
  reliable fit. (An arm alone can be told it probably loses money the same way.)
* Otherwise **keep testing**.

The winner threshold guards the trial, not each arm, and every look at the data. Each
of the k arms may be called the winner by chance with probability alpha = (1 - p) / k
(Bonferroni over arms, p the rule's probability), and that alpha is spread over the
daily looks from ``min_days`` to the planned end by a Wang-Tsiatis boundary on the
z scale,

    w(t) = Phi( C * t^(Delta - 1/2) ),   t = share of the planned days with data (>= 0.2)

with Delta = ``BOUNDARY_DELTA`` (0 is O'Brien-Fleming's shape, 1/2 a constant bar) and C
set so that a path of daily z-statistics under no difference crosses on some look with
probability alpha (:func:`boundary_constant`, by simulation of Brownian paths). So
checking every day and acting at the first ``scale`` keeps the false-scale rate of
identical arms within 1 - p; a single look at the end needs 1 - (1 - p) / k (97.5 % for
two arms at 95 %). After the planned end the bar stays at its final level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

from inference import montecarlo

__all__ = [
    "GATES",
    "VERDICTS",
    "Batch",
    "Quantities",
    "Rule",
    "Verdict",
    "boundary_constant",
    "judge",
    "look",
    "quantities_from_draws",
    "verdict",
    "winner_threshold",
]

VERDICTS = ("scale", "keep_testing", "equal", "stop_all")
GATES = ("min_days", "min_conversions", "reliable_fit")
BOUNDARY_DELTA = 0.25  # Wang-Tsiatis shape of the look boundary (see the docstring)
MIN_INFORMATION = 0.2  # the boundary stops rising at a fifth of the planned days
# A settled comparison clears its bar by this many Monte Carlo errors. At 3, a verdict on
# a probability exactly on its bar is called either way by at most 2 x 0.13 % of seeds
# over the analysis' up to three looks (first run, x4, x16 draws).
SETTLED_ERRORS = 3.0
BOUNDARY_PATHS = 20_000
BOUNDARY_SEED = 20261129


@dataclass(frozen=True)
class Rule:
    """The parts of a trial's decision rule the verdict reads (``trials.domain.DecisionRule``
    is the registered form)."""

    min_days: int = 7
    min_conversions_per_arm: int = 25
    probability_threshold: float = 0.95
    expected_loss_threshold: float = 0.01
    equivalence_margin: float = 0.1
    profit_confidence: float = 0.8
    planned_days: int | None = None  # the trial's planned length: the looks' schedule


@lru_cache(maxsize=256)
def boundary_constant(alpha: float, first_day: int, planned_days: int) -> float:
    """The constant C of the look boundary z_t = C t^(Delta - 1/2) for daily looks on days
    ``first_day`` .. ``planned_days``, such that a z-statistic under no difference crosses
    it on some look with probability ``alpha``.

    Computed once per schedule on BOUNDARY_PATHS simulated Brownian paths with a fixed
    seed (the z-statistic at day d of a trial with independent days is W(d) / sqrt(d));
    a single look gives z_(1 - alpha) exactly.
    """
    z = float(stats.norm.ppf(1 - alpha))
    first = max(int(first_day), 1)
    planned = int(planned_days)
    if planned <= first:
        return z
    rng = np.random.default_rng(BOUNDARY_SEED)
    days = np.arange(first, planned + 1)
    steps = np.diff(np.concatenate([[0], days]))
    w = np.cumsum(rng.standard_normal((BOUNDARY_PATHS, len(days))) * np.sqrt(steps), axis=1)
    shape = (days / planned) ** (BOUNDARY_DELTA - 0.5)
    worst = (w / np.sqrt(days) / shape).max(axis=1)
    return max(float(np.quantile(worst, 1 - alpha)), z)


def winner_threshold(
    probability_threshold: float,
    n_arms: int,
    information=1.0,
    planned_days: int | None = None,
    first_day: int = 1,
):
    """The P(best) an arm needs to be called the winner among ``n_arms`` at a look made
    when ``information`` (a share) of the ``planned_days`` have data.

    Each arm may cross with probability (1 - p) / k (Bonferroni over arms), spent over the
    daily looks from ``first_day`` to the planned end by the boundary
    Phi(C t^(Delta - 1/2)) (see the module docstring); without ``planned_days`` it is one
    look, 1 - (1 - p) / k. After the planned end the bar stays at its final level.
    ``information`` may be an array (one threshold per look).
    """
    alpha = (1.0 - probability_threshold) / max(n_arms, 1)
    if planned_days is None:
        c = float(stats.norm.ppf(1 - alpha))
        t = np.ones_like(np.asarray(information, dtype=float))
    else:
        c = boundary_constant(round(alpha, 12), first_day, planned_days)
        t = np.clip(np.asarray(information, dtype=float), MIN_INFORMATION, 1.0)
    w = stats.norm.cdf(c * t ** (BOUNDARY_DELTA - 0.5))
    return float(w) if np.ndim(w) == 0 else w


@dataclass(frozen=True)
class Quantities:
    """What the rule reads off a posterior of the primary metric, per arm (arrays of k),
    with the Monte Carlo errors of the estimates (``inference.montecarlo``)."""

    p_best: np.ndarray
    p_beats_leader: np.ndarray  # P(arm better than the leader); the leader's own is 0.5
    relative_loss: float  # the leader's expected loss over its mean
    p_equal: float  # P(every arm within the margin of the leader)
    leader: int
    p_best_error: float  # Monte Carlo standard error of the leader's P(best)
    p_beats_error: np.ndarray | None = None  # ... of each arm's P(better than the leader)
    relative_loss_error: float = 0.0
    p_equal_error: float = 0.0


def quantities_from_draws(
    draws: np.ndarray,
    *,
    higher_is_better: bool = True,
    margin: float = 0.1,
    effective_draws: float | None = None,
    runs: Sequence[tuple[int, int]] = (),
) -> Quantities:
    """:class:`Quantities` from posterior draws shaped (n_draws, k), all finite.

    The Monte Carlo errors come from the effective sample size of each quantity's own
    per-draw values, from the chains ``runs`` describes (``inference.summary.Posterior
    .runs``; empty: independent draws); ``effective_draws``, when given, is used for
    every quantity instead.
    """
    x = np.asarray(draws, dtype=float)
    n = x.shape[0]
    oriented = x if higher_is_better else -x
    top = oriented.max(axis=1, keepdims=True)
    best = oriented == top
    share = best / best.sum(axis=1, keepdims=True)
    p_best = share.mean(axis=0)
    leader = int(np.argmax(p_best))
    lead = oriented[:, [leader]]
    beats = (oriented > lead) + 0.5 * (oriented == lead)
    p_beats = beats.mean(axis=0)
    p_beats[leader] = 0.5
    leader_mean = abs(x[:, leader].mean())
    gap = (top - lead)[:, 0]
    loss = float(gap.mean())
    relative = loss / leader_mean if leader_mean > 0 else math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = x / x[:, [leader]] - 1.0
    within = np.all(np.abs(ratio) <= margin, axis=1)
    # The relative loss is a ratio of means: its error is that of the linearised mean
    # gap - relative * |X_L| over |E X_L|.
    linear = gap - (relative if math.isfinite(relative) else 0.0) * np.abs(x[:, leader])
    per_draw = np.column_stack([share[:, leader], beats, within, linear])
    m = (
        np.full(per_draw.shape[1], float(effective_draws))
        if effective_draws
        else montecarlo.effective_draws(per_draw, runs)
    )
    errors = montecarlo.probability_error(per_draw[:, :-1].mean(axis=0), m[:-1])
    beats_error = np.asarray(errors[1:-1], dtype=float)
    beats_error[leader] = 0.0
    spread = float(linear.std(ddof=1)) if n > 1 else 0.0
    return Quantities(
        p_best=p_best,
        p_beats_leader=p_beats,
        relative_loss=relative,
        p_equal=float(within.mean()),
        leader=leader,
        p_best_error=float(errors[0]),
        p_beats_error=beats_error,
        relative_loss_error=spread / math.sqrt(m[-1]) / leader_mean if leader_mean > 0 else 0.0,
        p_equal_error=float(errors[-1]),
    )


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


def judge(batch: Batch, rule: Rule) -> dict[str, np.ndarray]:
    """The rule over a batch of looks: verdict index into VERDICTS per look, and the masks
    it was reached with. The one implementation of the rule (see the module docstring)."""
    b = batch
    k = b.p_best.shape[-1]
    p_best = np.where(b.comparable, b.p_best, -1.0)
    leader = p_best.argmax(axis=-1)
    rows = np.arange(len(leader))
    w = np.broadcast_to(
        winner_threshold(
            rule.probability_threshold, k, b.information, rule.planned_days, rule.min_days
        ),
        leader.shape,
    )
    enough_days = b.days >= rule.min_days
    reliable = np.asarray(b.reliable, dtype=bool)
    has_profit = np.isfinite(b.p_profit)
    losing = (
        has_profit & (b.p_profit < 1 - rule.profit_confidence) & enough_days & reliable[:, None]
    )
    is_leader = np.zeros_like(b.comparable)
    is_leader[rows, leader] = True
    trailing = (
        ~is_leader
        & b.comparable
        & enough_days
        & reliable[:, None]
        & (b.p_beats_leader <= (1 - w)[:, None])
    )
    contender = ~trailing
    gates = {
        "min_days": np.all(enough_days | ~contender, axis=-1),
        "min_conversions": np.all(
            (b.conversions >= rule.min_conversions_per_arm) | ~contender, axis=-1
        ),
        "reliable_fit": reliable,
    }
    compared = np.all(b.comparable | ~contender, axis=-1) & (b.comparable.sum(axis=-1) >= 2)
    gates_ok = gates["min_days"] & gates["min_conversions"] & gates["reliable_fit"] & compared
    lead_profit = b.p_profit[rows, leader]
    error = np.zeros(len(leader)) if b.p_best_error is None else b.p_best_error
    conditions = {
        # Settled: the bar is cleared by SETTLED_ERRORS Monte Carlo errors, so another run
        # of the sampler would not turn the verdict back.
        "probability": p_best[rows, leader] - SETTLED_ERRORS * error >= w,
        "expected_loss": b.relative_loss <= rule.expected_loss_threshold,
        "profit": ~np.isfinite(lead_profit) | (lead_profit >= rule.profit_confidence),
    }
    stop_all = (
        has_profit.any(axis=-1)
        & np.all(losing | ~has_profit, axis=-1)
        & enough_days.all(axis=-1)
        & gates["reliable_fit"]
    )
    scale = (
        gates_ok & conditions["probability"] & conditions["expected_loss"] & conditions["profit"]
    )
    equal = gates_ok & ~trailing.any(axis=-1) & (b.p_equal >= rule.probability_threshold)
    code = np.full(len(leader), VERDICTS.index("keep_testing"))
    code = np.where(equal, VERDICTS.index("equal"), code)
    code = np.where(scale, VERDICTS.index("scale"), code)
    code = np.where(stop_all, VERDICTS.index("stop_all"), code)
    return {
        "code": code,
        "leader": leader,
        "winner_threshold": w,
        "trailing": trailing,
        "losing": losing,
        "compared": compared,
        **{f"gate_{g}": v for g, v in gates.items()},
        **{f"condition_{c}": v for c, v in conditions.items()},
    }


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
