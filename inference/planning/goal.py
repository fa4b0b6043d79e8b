"""Budget by goal: the least spend that reaches a number of conversions (or of revenue) by
a date with a given probability, and where the money goes.

Each arm (or untested channel) is an :class:`ArmResponse`: posterior draws of how its
expected conversions a day grow with its daily spend s, and what a conversion brings.

* **An arm with a response curve** (it ran at two or more budget levels): the curve of
  ``inference.curve`` (``daily_conversions``: mu(s) = m0 x (1 + k) / (k + x), x = s / s0),
  with the curve's own posterior draws of m0, k, the order value, the day-to-day
  variation and the order values' spread. It saturates at m0 (1 + k).
* **An arm without one** (one budget level so far): today's conversions per unit spent
  (the funnel posterior's 1 / CPA) up to today's daily spend s0, and beyond it the
  return per unit spent falls as (s / s0)^-e with e uniform on 0–0.5 per draw: the same
  assumption the next round's budget split makes (``inference.decisions.pace_damping``).
  Its day-to-day variation is drawn from the curve model's prior.
* **An untested channel** (:class:`ChannelPrior`): cost per click, CVR and order value
  drawn from what we expect of it, then as an arm without a curve at the prior's
  reference daily spend.

For a total daily spend S, the split gives each arm the spend that equalises the
**posterior-mean marginal return** (expected conversions, or revenue, per unit spent):
the arms' mean curves are tabulated on a spend grid (concave, so the pieces are filled in
order of falling marginal return), which is the optimal split of the expected outcome.
One split per total, the same for every draw: a plan the marketer can run, not a split
that knows each draw's truth.

Then per draw j, over the D days left, arm i's conversions are

    N_ij ~ NegativeBinomial(mean D mu_ij(s_i), shape D / cv_ij^2)

(the sum of D days each NegativeBinomial(mu, 1 / cv^2), as in the curve model), and its
revenue given N_ij orders is Gamma(N_ij a_ij, a_ij / v_ij). P(goal | S) is the share of
draws whose total reaches the goal. Every random number is fixed before the search
(Latin-hypercube uniforms per arm, through inverse CDFs), and each draw's outcome grows
with S, so P(goal | S) is monotone in S: a bisection finds the least S with
P(goal | S) >= p for each probability p asked for. When even the largest spend considered
(``MAX_MULTIPLE`` times each arm's reference spend) falls short, the goal is out of reach:
at any spend when every arm saturates (the curves' ceilings, in the limit, fall short).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from inference.curve.fit import CurveDraws, daily_conversions
from inference.curve.spec import SaturationPriors
from inference.decisions import RETURNS_ELASTICITY, pace_damping

__all__ = [
    "GOAL_METRICS",
    "MAX_MULTIPLE",
    "ArmResponse",
    "ChannelPrior",
    "Goal",
    "GoalLevel",
    "GoalPlan",
    "curve_response",
    "pace_response",
    "plan_goal",
    "prior_response",
    "resampled",
]

GOAL_METRICS = ("conversions", "revenue")
MAX_MULTIPLE = 1000.0  # the most the search considers: this times each arm's daily spend
GRID_POINTS = 240  # spend points per arm for the mean curves the split reads
_PRIORS = SaturationPriors()
# Order values vary as in the funnel's prior (about +-70 % per order): the curve prior's mean.
_VALUE_SHAPE = _PRIORS.order_value_shape_a / _PRIORS.order_value_shape_b


@dataclass(frozen=True)
class ChannelPrior:
    """What we expect of a channel we have not tried, in one currency.

    Cost per click ~ LogNormal(cpc_log_mean, cpc_log_sd); CVR ~ Beta(cvr_a, cvr_b);
    revenue per conversion ~ LogNormal(order_value_log_mean, order_value_log_sd). The
    rates are taken to hold up to ``reference_daily_spend`` a day and to fall beyond it
    as for an arm without a response curve. ``source`` says where the numbers come from.
    """

    channel: str
    currency: str
    cpc_log_mean: float
    cpc_log_sd: float
    cvr_a: float
    cvr_b: float
    order_value_log_mean: float
    order_value_log_sd: float
    reference_daily_spend: float
    source: str = ""

    def __post_init__(self) -> None:
        numbers = (self.cpc_log_sd, self.cvr_a, self.cvr_b, self.order_value_log_sd)
        if (
            not all(math.isfinite(x) and x >= 0 for x in numbers)
            or min(self.cvr_a, self.cvr_b) <= 0
        ):
            raise ValueError("a channel prior needs positive CVR parameters and spreads")
        if not (math.isfinite(self.reference_daily_spend) and self.reference_daily_spend > 0):
            raise ValueError("a channel prior needs a positive reference daily spend")


@dataclass(frozen=True, eq=False)
class ArmResponse:
    """One arm's (or untested channel's) draws: expected conversions a day at daily spend
    s, what a conversion brings, and the noise around them. Arrays hold one value per
    draw; ``k`` is set for a response curve, ``elasticity`` otherwise."""

    name: str
    channel: str
    currency: str
    s0: float  # the daily spend the draws describe (today's, or the prior's reference)
    level: np.ndarray  # expected conversions a day at s0
    value: np.ndarray  # revenue per conversion
    day_cv: np.ndarray  # day-to-day variation beyond Poisson
    value_shape: np.ndarray  # one order's value ~ Gamma(a, a / v)
    k: np.ndarray | None = None
    elasticity: np.ndarray | None = None
    kind: str = "pace"  # "curve", "pace" (one budget level so far) or "prior" (untested)

    @property
    def n_draws(self) -> int:
        return len(self.level)

    def conversions(self, spend) -> np.ndarray:
        """Expected conversions a day at daily ``spend`` per draw (spend of shape (g, 1)
        gives (g, n_draws))."""
        s = np.asarray(spend, dtype=float)
        if self.k is not None:
            return daily_conversions(s, self.level, self.k, self.s0)
        rate = self.level / self.s0
        return s * rate * pace_damping(s / self.s0, self.elasticity)

    def outcome(self, spend, metric: str) -> np.ndarray:
        c = self.conversions(spend)
        return c if metric == "conversions" else c * self.value

    def ceiling(self) -> np.ndarray:
        """Expected conversions a day at unlimited spend (infinite without a curve)."""
        if self.k is not None:
            return self.level * (1 + self.k)
        return np.full(self.n_draws, np.inf)


def curve_response(name: str, channel: str, currency: str, draws: CurveDraws) -> ArmResponse:
    """An arm with a fitted response curve, from the curve's posterior draws."""
    return ArmResponse(
        name,
        channel,
        currency,
        float(draws.s0),
        np.asarray(draws.m0, float),
        np.asarray(draws.order_value, float),
        np.asarray(draws.day_cv, float),
        np.asarray(draws.order_value_shape, float),
        k=np.asarray(draws.k, float),
        kind="curve",
    )


def pace_response(
    name: str,
    channel: str,
    currency: str,
    s0: float,
    conversions_per_spend,
    value,
    *,
    seed: int = 0,
    kind: str = "pace",
) -> ArmResponse:
    """An arm without a curve: conversions per unit spent (draws) holding up to today's
    daily spend ``s0``, returns falling beyond it (``pace_damping``, e uniform on
    RETURNS_ELASTICITY per draw), day-to-day variation from the curve model's prior."""
    rate = np.asarray(conversions_per_spend, float)
    rng = np.random.default_rng(seed)
    n = len(rate)
    return ArmResponse(
        name,
        channel,
        currency,
        float(s0),
        rate * s0,
        np.broadcast_to(np.asarray(value, float), (n,)).copy(),
        np.abs(rng.normal(0.0, _PRIORS.day_cv_scale, n)),
        np.full(n, _VALUE_SHAPE),
        elasticity=rng.uniform(*RETURNS_ELASTICITY, n),
        kind=kind,
    )


def prior_response(prior: ChannelPrior, n_draws: int, *, seed: int = 0) -> ArmResponse:
    """An untested channel: cost per click, CVR and order value drawn from ``prior``."""
    rng = np.random.default_rng(seed)
    cpc = np.exp(rng.normal(prior.cpc_log_mean, prior.cpc_log_sd, n_draws))
    cvr = rng.beta(prior.cvr_a, prior.cvr_b, n_draws)
    value = np.exp(rng.normal(prior.order_value_log_mean, prior.order_value_log_sd, n_draws))
    return pace_response(
        f"{prior.channel} (untested)",
        prior.channel,
        prior.currency,
        prior.reference_daily_spend,
        cvr / cpc,
        value,
        seed=seed + 1,
        kind="prior",
    )


def resampled(responses: Sequence[ArmResponse], n: int, *, seed: int = 0) -> list[ArmResponse]:
    """``responses`` (one posterior: same number of draws) at ``n`` draws, one set of
    indices for all, so the draws of arms fitted together stay paired."""
    if not responses:
        return []
    size = responses[0].n_draws
    if any(r.n_draws != size for r in responses):
        raise ValueError("responses resampled together must have the same number of draws")
    rng = np.random.default_rng(seed)
    idx = rng.choice(size, n, replace=False) if size >= n else rng.choice(size, n, replace=True)

    def take(a):
        return None if a is None else np.asarray(a)[idx]

    return [
        ArmResponse(
            r.name,
            r.channel,
            r.currency,
            r.s0,
            take(r.level),
            take(r.value),
            take(r.day_cv),
            take(r.value_shape),
            k=take(r.k),
            elasticity=take(r.elasticity),
            kind=r.kind,
        )
        for r in responses
    ]


@dataclass(frozen=True)
class Goal:
    """Reach ``target`` conversions (or revenue) in ``days`` days of spending."""

    metric: str
    target: float
    days: int

    def __post_init__(self) -> None:
        if self.metric not in GOAL_METRICS:
            raise ValueError(f"the goal is conversions or revenue, not {self.metric!r}")
        if not (math.isfinite(self.target) and self.target > 0):
            raise ValueError("the goal must be a positive number")
        if self.days < 1:
            raise ValueError("the goal's date must leave at least one day")


@dataclass(frozen=True)
class GoalLevel:
    """The least spend reaching the goal with ``probability`` (reachable), or why not."""

    probability: float
    reachable: bool
    daily_spend: float | None  # all arms together, per day
    total_spend: float | None  # over the goal's days
    arm_daily_spend: tuple[float, ...]  # per arm, in the responses' order
    expected_conversions: tuple[float, ...]  # per arm, over the days
    expected_revenue: tuple[float, ...]
    achieved: float  # P(goal) at that spend (at the largest spend considered when out of reach)
    at_any_spend: bool = False  # out of reach even at unlimited spend (every arm saturates)
    # Per arm, the posterior-mean return of the next unit spent at its planned daily spend
    # (conversions or revenue per unit, by the goal): the split equalises these.
    marginal: tuple[float, ...] = ()


@dataclass(frozen=True)
class GoalPlan:
    goal: Goal
    currency: str
    arms: tuple[tuple[str, str, str], ...]  # (name, channel, kind) in the responses' order
    levels: tuple[GoalLevel, ...]
    limit_probability: float  # P(goal) at unlimited spend (1 when some arm never saturates)
    n_draws: int
    seed: int


class _Split:
    """The posterior-mean optimal split of a total daily spend (see the module docstring)."""

    def __init__(self, responses: Sequence[ArmResponse], metric: str):
        arm_of, lengths, slopes = [], [], []
        self.highest = []
        for i, r in enumerate(responses):
            grid = np.concatenate([[0.0], r.s0 * np.geomspace(1e-3, MAX_MULTIPLE, GRID_POINTS)])
            mean = r.outcome(grid[:, None], metric).mean(axis=1)
            length = np.diff(grid)
            slope = np.minimum.accumulate(np.diff(mean) / length)  # concave up to rounding
            arm_of.append(np.full(len(length), i))
            lengths.append(length)
            slopes.append(slope)
            self.highest.append(grid[-1])
        arm_of, lengths, slopes = map(np.concatenate, (arm_of, lengths, slopes))
        order = np.lexsort((arm_of, -slopes))  # steepest first; ties in arm order
        self.arm_of, self.lengths = arm_of[order], lengths[order]
        self.before = np.concatenate([[0.0], np.cumsum(self.lengths)[:-1]])
        self.k = len(responses)
        self.most = float(self.lengths.sum())

    def __call__(self, total: float) -> np.ndarray:
        filled = np.clip(total - self.before, 0.0, self.lengths)
        return np.bincount(self.arm_of, weights=filled, minlength=self.k)


class _Outcomes:
    """Per draw, the goal's total at a split, with every random number fixed."""

    def __init__(self, responses: Sequence[ArmResponse], goal: Goal, seed: int):
        rng = np.random.default_rng(seed)
        n = responses[0].n_draws
        self.responses, self.goal = responses, goal

        def lhs():  # one uniform per draw, stratified
            return (rng.permutation(n) + rng.uniform(size=n)) / n

        self.u = [lhs() for _ in responses]
        self.w = [lhs() for _ in responses]

    def totals(self, daily: np.ndarray, *, ceiling: bool = False) -> np.ndarray:
        goal, out = self.goal, 0.0
        for r, s, u, w in zip(self.responses, daily, self.u, self.w, strict=True):
            mu = r.ceiling() if ceiling else r.conversions(s)
            if ceiling and not np.isfinite(mu).all():
                return np.full(r.n_draws, np.inf)
            n = _conversions(goal.days * mu, goal.days / np.maximum(r.day_cv, 1e-6) ** 2, u)
            if goal.metric == "conversions":
                out = out + n
            else:
                shape = np.maximum(n * r.value_shape, 1e-300)
                revenue = stats.gamma.ppf(w, shape, scale=r.value / r.value_shape)
                out = out + np.where(n > 0, revenue, 0.0)
        return np.asarray(out, dtype=float)

    def p(self, daily: np.ndarray) -> float:
        return float((self.totals(daily) >= self.goal.target).mean())


def _conversions(mean: np.ndarray, shape: np.ndarray, u: np.ndarray) -> np.ndarray:
    """NegativeBinomial(mean, shape) at uniforms ``u`` (Poisson when the shape is huge)."""
    mean = np.maximum(mean, 0.0)
    poisson = shape > 1e8
    nb = stats.nbinom.ppf(u, shape, shape / (shape + np.maximum(mean, 1e-300)))
    out = np.where(poisson, stats.poisson.ppf(u, mean), nb)
    return np.where(mean > 0, out, 0.0)


def plan_goal(
    responses: Sequence[ArmResponse],
    goal: Goal,
    *,
    probabilities: Sequence[float] = (0.5, 0.8),
    seed: int = 0,
) -> GoalPlan:
    """The least total spend per probability (see the module docstring); raises
    ValueError on mixed currencies, no arms, or draws of different lengths."""
    if not responses:
        raise ValueError("a goal needs at least one arm or channel to spend on")
    currencies = sorted({r.currency for r in responses})
    if len(currencies) > 1:
        raise ValueError(
            f"money in different currencies cannot be planned together: {', '.join(currencies)}"
        )
    n = responses[0].n_draws
    if any(r.n_draws != n for r in responses):
        raise ValueError("every arm needs the same number of draws")
    split = _Split(responses, goal.metric)
    sim = _Outcomes(responses, goal, seed)
    at_most = split(split.most)
    p_most = sim.p(at_most)
    limit = float((sim.totals(at_most, ceiling=True) >= goal.target).mean())
    levels = tuple(
        _level(responses, goal, split, sim, q, p_most, at_most, limit) for q in probabilities
    )
    return GoalPlan(
        goal=goal,
        currency=currencies[0],
        arms=tuple((r.name, r.channel, r.kind) for r in responses),
        levels=levels,
        limit_probability=limit,
        n_draws=n,
        seed=seed,
    )


def _level(responses, goal, split, sim, q, p_most, at_most, limit) -> GoalLevel:
    if p_most < q:
        return _describe(responses, goal, q, at_most, p_most, reachable=False, limit=limit)
    lo, hi = split.most * 1e-12, split.most
    for _ in range(200):
        if hi / lo - 1 < 1e-6:
            break
        mid = math.sqrt(lo * hi)
        if sim.p(split(mid)) >= q:
            hi = mid
        else:
            lo = mid
    daily = split(hi)
    return _describe(responses, goal, q, daily, sim.p(daily), reachable=True, limit=limit)


def _describe(responses, goal, q, daily, achieved, *, reachable, limit) -> GoalLevel:
    pairs = list(zip(responses, daily, strict=True))
    conv = tuple(float(goal.days * r.conversions(s).mean()) for r, s in pairs)
    rev = tuple(float(goal.days * (r.conversions(s) * r.value).mean()) for r, s in pairs)
    total = float(daily.sum())
    marginal = tuple(_marginal(r, s, goal.metric) for r, s in zip(responses, daily, strict=True))
    return GoalLevel(
        probability=float(q),
        reachable=reachable,
        daily_spend=total if reachable else None,
        total_spend=total * goal.days if reachable else None,
        arm_daily_spend=tuple(float(s) for s in daily) if reachable else (),
        expected_conversions=conv if reachable else (),
        expected_revenue=rev if reachable else (),
        achieved=float(achieved),
        at_any_spend=not reachable and limit < q,
        marginal=marginal if reachable else (),
    )


def _marginal(r: ArmResponse, spend: float, metric: str) -> float:
    """The mean return of the next unit spent at daily ``spend`` (a right derivative)."""
    h = max(spend, r.s0) * 1e-4
    gain = r.outcome(spend + h, metric) - r.outcome(spend, metric)
    return float(gain.mean() / h)
