"""Decision quantities from posterior draws: P(best), P(beat control), lift, expected loss,
P(ROAS above break-even), and the next round's budget split.

Everything works on draws shaped (n_draws, n_arms) of one metric, so the exact and the
MCMC posteriors are treated alike and the maths is checked against closed forms on
planted draws. For a metric where lower is better (CPA) the draws are compared the other
way round.

Expected loss of choosing arm i, in the metric's own terms, is

    L_i = E[ max_j X_j - X_i ]            (higher is better)
    L_i = E[ X_i - min_j X_j ]            (lower is better)

and the relative loss ``L_i / E[X_leader]`` is what a decision rule's expected-loss
threshold is compared with.

The budget split maximises expected profit minus ``risk`` times the conditional
value-at-risk (the mean of the worst ``1 - alpha`` share of outcomes) of the loss, over
the posterior draws of ROAS:

    profit_d(s) = sum_i s_i (ROAS_di / break_even - 1)
    maximise  mean_d profit_d(s) - risk * CVaR_alpha(-profit(s))
    subject to sum_i s_i = budget,  low_i <= s_i <= high_i

which is a linear programme (Rockafellar and Uryasev, 2000), solved with HiGHS.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from inference.summary import hdi

__all__ = [
    "RETURNS_ELASTICITY",
    "Allocation",
    "ArmComparison",
    "allocate",
    "compare_arms",
    "expected_loss",
    "p_beat",
    "p_best",
    "pace_damping",
]


def _oriented(draws: np.ndarray, higher_is_better: bool) -> np.ndarray:
    return np.asarray(draws, dtype=float) * (1.0 if higher_is_better else -1.0)


def p_best(draws: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """Share of draws in which each arm is the best (ties split evenly)."""
    x = _oriented(draws, higher_is_better)
    best = x == x.max(axis=1, keepdims=True)
    return (best / best.sum(axis=1, keepdims=True)).mean(axis=0)


def p_beat(draws: np.ndarray, control: int, higher_is_better: bool = True) -> np.ndarray:
    """P(arm better than the control) per arm (the control's own entry is 0.5)."""
    x = _oriented(draws, higher_is_better)
    return (x > x[:, [control]]).mean(axis=0) + 0.5 * (x == x[:, [control]]).mean(axis=0)


def expected_loss(draws: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """E[best - arm] per arm, in the metric's units (always >= 0)."""
    x = _oriented(draws, higher_is_better)
    return (x.max(axis=1, keepdims=True) - x).mean(axis=0)


@dataclass(frozen=True)
class ArmComparison:
    """One arm against the others on one metric."""

    p_best: float
    p_beat_control: float | None  # None for the control itself or without a control
    lift_mean: float | None  # relative lift vs the control: arm / control - 1
    lift_low: float | None
    lift_high: float | None
    expected_loss: float  # E[best - arm], metric units
    relative_loss: float  # expected_loss / E[leader], what a rule's threshold reads


def compare_arms(
    draws: np.ndarray,
    *,
    higher_is_better: bool = True,
    control: int | None = None,
    hdi_prob: float = 0.94,
) -> tuple[ArmComparison, ...]:
    """P(best), P(beat control), lift vs control and expected loss for every arm.

    ``draws`` must be finite; arms without a defined metric are left out by the caller.
    """
    x = np.asarray(draws, dtype=float)
    best = p_best(x, higher_is_better)
    loss = expected_loss(x, higher_is_better)
    leader_mean = abs(x[:, int(best.argmax())].mean())
    beat = p_beat(x, control, higher_is_better) if control is not None else None
    out = []
    for i in range(x.shape[1]):
        lift = (None, None, None)
        if control is not None and i != control and (x[:, control] > 0).all():
            ratio = x[:, i] / x[:, control] - 1
            low, high = hdi(ratio, hdi_prob)
            lift = (float(ratio.mean()), float(low), float(high))
        out.append(
            ArmComparison(
                p_best=float(best[i]),
                p_beat_control=None if beat is None or i == control else float(beat[i]),
                lift_mean=lift[0],
                lift_low=lift[1],
                lift_high=lift[2],
                expected_loss=float(loss[i]),
                relative_loss=float(loss[i] / leader_mean) if leader_mean > 0 else math.inf,
            )
        )
    return tuple(out)


# -- next round's budget ------------------------------------------------------------------


@dataclass(frozen=True)
class Allocation:
    """A budget split and what it is expected to bring, beside today's split."""

    budgets: tuple[float, ...]
    expected_revenue: tuple[float, ...]
    total_expected_revenue: float
    expected_profit: float  # revenue / break-even - spend, i.e. after the margin
    p_loss: float  # P(revenue below spend x break-even): the round loses money
    current_budgets: tuple[float, ...]
    current_expected_revenue: float
    current_p_loss: float
    risk: float
    alpha: float
    budget: float = 0.0  # what was offered; sum(budgets) may be less
    current_expected_profit: float = 0.0  # today's split of the whole offered budget
    caps: tuple[float | None, ...] = ()  # the most each arm may take (None: no cap)
    floors: tuple[float, ...] = ()  # the least each arm keeps (learning floor)

    @property
    def unspent(self) -> float:
        return max(self.budget - sum(self.budgets), 0.0)


RETURNS_ELASTICITY = (0.0, 0.5)  # diminishing returns beyond today's pace: ROAS x m^-e


def _expected(roas: np.ndarray, budgets: np.ndarray, break_even: float, pace, rng):
    """Per arm the expected revenue of ``budgets``, and per draw the revenue and the profit
    (revenue / break-even - spend), with diminishing returns beyond ``pace``."""
    damp = _damping(budgets, pace, roas.shape, rng)
    returns = roas * damp if damp is not None else roas
    revenue = returns @ budgets
    profit = revenue / break_even - budgets.sum()
    return returns.mean(axis=0) * budgets, revenue, profit


def pace_damping(multiple, elasticity) -> np.ndarray:
    """An arm without a response curve: its return per unit spent at ``multiple`` times
    today's pace over its return at today's pace: 1 up to today's pace, multiple^-e beyond
    (broadcasts; the elasticity e is drawn uniform on RETURNS_ELASTICITY)."""
    m = np.asarray(multiple, dtype=float)
    return np.where(m > 1.0, np.maximum(m, 1.0) ** -np.asarray(elasticity, dtype=float), 1.0)


def _damping(budgets, pace, shape, rng) -> np.ndarray | None:
    """Per draw and arm, ROAS at ``budgets`` over ROAS at today's ``pace``: 1 up to today's
    pace, (budget / pace)^-e beyond, with the elasticity e uniform on RETURNS_ELASTICITY
    per draw and arm (no curve says how fast returns fall, so every rate in that range is
    taken as possible)."""
    if pace is None:
        return None
    pace = np.asarray(pace, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(pace > 0, budgets / pace, 1.0)
    e = rng.uniform(*RETURNS_ELASTICITY, size=shape)
    return pace_damping(m[None, :], e)


def allocate(
    roas: np.ndarray,
    budget: float,
    *,
    break_even: float,
    low: Sequence[float] | float = 0.0,
    high: Sequence[float] | float | None = None,
    current: Sequence[float] | None = None,
    risk: float = 0.5,
    alpha: float = 0.9,
    max_draws: int = 2000,
    seed: int = 0,
    pace: Sequence[float] | None = None,
    spend_less: bool = False,
) -> Allocation:
    """The split of ``budget`` over arms that maximises E[profit] - risk x CVaR(loss).

    ``roas`` holds posterior draws (n_draws, n_arms); ``low``/``high`` bound each arm's
    budget; ``current`` is today's split scaled to ``budget`` for the comparison (equal
    shares when not given). ``risk`` = 0 chases the mean; larger values give up expected
    profit to avoid bad outcomes. With ``spend_less`` the split may leave money unspent
    (all of it, when every arm likely loses money). Returns are linear in spend within the
    bounds; with ``pace`` (each arm's spend over the round at today's rate) the expected
    revenue and P(loss) reported carry diminishing returns beyond that pace (see
    ``_damping``), so an extrapolated split does not look surer than it is.
    """
    roas = np.asarray(roas, dtype=float)
    n_draws, k = roas.shape
    if not np.isfinite(roas).all():
        raise ValueError("every arm needs finite ROAS draws to be allocated")
    lows, highs = _bounds(k, budget, low, high, spend_less)
    rng = np.random.default_rng(seed)
    rows = rng.choice(n_draws, max_draws, replace=False) if n_draws > max_draws else slice(None)
    budgets = _cvar_split(
        roas[rows], budget, lows, highs, break_even, risk=risk, alpha=alpha, spend_less=spend_less
    )
    now = _today(current, budget, k)
    # The new split's returns draw their elasticities first, then today's (one rng).
    per_arm, revenue, profit = _expected(roas, budgets, break_even, pace, rng)
    _, now_revenue, now_profit = _expected(roas, now, break_even, pace, rng)
    return Allocation(
        budgets=tuple(float(round(b, 2)) for b in budgets),
        expected_revenue=tuple(float(v) for v in per_arm),
        total_expected_revenue=float(revenue.mean()),
        expected_profit=float(profit.mean()),
        p_loss=float((profit < 0).mean()) if budgets.sum() > 0 else 0.0,
        current_budgets=tuple(float(round(b, 2)) for b in now),
        current_expected_revenue=float(now_revenue.mean()),
        current_p_loss=float((now_profit < 0).mean()),
        risk=risk,
        alpha=alpha,
        budget=float(budget),
        current_expected_profit=float(now_profit.mean()),
        caps=tuple(None if high is None else float(h) for h in highs),
        floors=tuple(float(x) for x in lows),
    )


def _today(current: Sequence[float] | None, budget: float, k: int) -> np.ndarray:
    """Today's split scaled to ``budget`` (equal shares when not given)."""
    if current is None:
        return np.full(k, budget / k)
    return np.asarray(current, dtype=float) * budget / max(sum(current), 1e-12)


def _bounds(k: int, budget: float, low, high, spend_less: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each arm's least and most budget (``high`` None: the whole budget), checked to hold
    ``budget`` (or, with ``spend_less``, less of it)."""
    lows = np.broadcast_to(np.asarray(low, dtype=float), (k,)).copy()
    highs = np.broadcast_to(np.asarray(budget if high is None else high, dtype=float), (k,)).copy()
    short = highs.sum() < budget - 1e-9
    if (lows > highs).any() or lows.sum() > budget + 1e-9 or (short and not spend_less):
        raise ValueError(
            f"the bounds cannot hold a budget of {budget:,.2f}: minimums add up to "
            f"{lows.sum():,.2f}, maximums to {highs.sum():,.2f}"
        )
    return lows, highs


def _cvar_split(
    sample: np.ndarray,
    budget: float,
    lows: np.ndarray,
    highs: np.ndarray,
    break_even: float,
    *,
    risk: float,
    alpha: float,
    spend_less: bool,
) -> np.ndarray:
    """The linear programme of the module docstring on the ROAS draws ``sample`` (d, k):
    each arm's budget, within its bounds, rounded to no budget below half a cent."""
    d, k = sample.shape
    cost = 1.0 - sample / break_even  # loss per unit spent, per draw and arm
    # Variables: s (k), t (1), u (d). Minimise mean(cost) s + risk (t + sum u / ((1-a) d)).
    c = np.concatenate([cost.mean(axis=0), [risk], np.full(d, risk / ((1 - alpha) * d))])
    # cost_d . s - t - u_d <= 0
    a_ub = sparse.hstack(
        [sparse.csr_matrix(cost), sparse.csr_matrix(-np.ones((d, 1))), -sparse.identity(d)]
    ).tocsr()
    b_ub = np.zeros(d)
    total = np.concatenate([np.ones(k), [0.0], np.zeros(d)])[None, :]
    if spend_less:
        a_ub = sparse.vstack([a_ub, sparse.csr_matrix(total)]).tocsr()
        b_ub = np.concatenate([b_ub, [budget]])
        a_eq = b_eq = None
    else:
        a_eq, b_eq = total, [budget]
    bounds = [(lo, hi) for lo, hi in zip(lows, highs, strict=True)]
    bounds += [(None, None)] + [(0, None)] * d
    result = optimize.linprog(
        c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs"
    )
    if not result.success:  # pragma: no cover - bounds are checked above
        raise ValueError(f"no budget split found: {result.message}")
    budgets = np.clip(result.x[:k], lows, highs)
    return np.where(budgets < 0.005, 0.0, budgets)  # the optimiser's dust is no budget
