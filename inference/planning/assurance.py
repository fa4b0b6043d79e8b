"""Bayesian assurance by simulation: trials of the plan's design, judged day by day through
the rule (``inference.planning.looks``), as the share that reach a verdict by each day;
and what checking a trial every day does (``daily_look_rates``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from inference.planning.looks import rule_met
from inference.rule.bars import VERDICTS

if TYPE_CHECKING:
    from inference.planning.plan import PlanInputs

__all__ = [
    "AssurancePoint",
    "LookRates",
    "assurance_curve",
    "check_days",
    "daily_look_rates",
    "design_effect",
    "evaluate",
    "simulate",
]


def design_effect(trials_per_day: float, concentration: float | None) -> float:
    """Variance inflation of a day's count when daily rates vary (beta-binomial)."""
    if concentration is None:
        return 1.0
    return 1.0 + max(trials_per_day - 1.0, 0.0) / (concentration + 1.0)


@dataclass(frozen=True)
class AssurancePoint:
    days: int
    clicks_per_arm: float
    budget: float
    assurance: float  # share of simulated trials whose rule reaches a verdict that day
    wrong_arm: float  # share of trials where the rule picked an arm that is not best
    p_winner: float = 0.0  # share ending with a winner to scale
    p_equal: float = 0.0  # share ending with the arms practically equal


def check_days(max_days: int) -> list[int]:
    """Days the curve is evaluated on: daily for two weeks, then ever more sparsely."""
    days = list(range(1, 15)) + list(range(16, 31, 2)) + list(range(33, 61, 3))
    days += list(range(65, max_days + 1, 5))
    return sorted({d for d in days if d <= max_days} | {max_days})


@dataclass(frozen=True)
class Simulated:
    inputs: PlanInputs
    rates: np.ndarray  # (sims, arms)
    successes: np.ndarray  # (sims, days, arms), effective units, cumulative
    conversions: np.ndarray  # (sims, days, arms), real conversions, cumulative
    n_eff: int  # effective trials per arm and day


def simulate(inputs: PlanInputs, seed: int, identical: bool = False) -> Simulated:
    """Simulated trials of the plan's design (``identical``: every arm at the baseline)."""
    rng = np.random.default_rng(seed)
    s, k, t_max = inputs.simulations, inputs.arms, inputs.max_days
    base, strength = inputs.metric_baseline, inputs.baseline_strength
    p0 = rng.beta(base * strength, (1 - base) * strength, size=s)
    log_lift = math.log1p(inputs.lift)
    lift = np.expm1(rng.normal(log_lift, 0.5 * log_lift, size=s))
    rates = np.repeat(p0[:, None], k, axis=1)
    if not identical:
        rates[:, -1] = np.minimum(p0 * (1 + lift), 0.999)
    per_day = inputs.trials_per_arm_per_day
    # A day of n clicks informs like n / DE independent ones (see the module docstring).
    n_eff = max(round(per_day / design_effect(per_day, inputs.concentration)), 1)
    daily = rng.binomial(np.full((s, t_max, k), n_eff), rates[:, None, :])
    successes = np.cumsum(daily, axis=1).astype(np.float64)
    conversions = successes * (per_day / n_eff)  # back in real units for the gate
    if inputs.metric == "ctr":  # the minimum-conversion gate counts conversions, not clicks
        conversions = conversions * inputs.baseline_cvr
    return Simulated(inputs, rates, successes, conversions, n_eff)


def evaluate(sim: Simulated, days: list[int]) -> list[AssurancePoint]:
    inputs = sim.inputs
    index = np.asarray(days) - 1
    t = np.asarray(days, dtype=np.float64)
    k = sim.successes[:, index]
    n = sim.n_eff * t[None, :, None]
    # Each day is the planned end of a trial of that length, looked at daily before it.
    met, code, leader = rule_met(
        1 + k, 1 + n - k, sim.conversions[:, index], t[None, :], inputs.rule, 1.0, days
    )
    best = sim.rates.argmax(axis=1)
    winner = code == VERDICTS.index("scale")
    wrong = winner & (leader != best[:, None])
    clicks = inputs.trial_clicks_per_day / inputs.arms
    return [
        AssurancePoint(
            days=int(d),
            clicks_per_arm=clicks * d,
            budget=inputs.trial_daily_budget * d,
            assurance=float(met[:, i].mean()),
            wrong_arm=float(wrong[:, i].mean()),
            p_winner=float(winner[:, i].mean()),
            p_equal=float((code[:, i] == VERDICTS.index("equal")).mean()),
        )
        for i, d in enumerate(days)
    ]


def assurance_curve(
    inputs: PlanInputs, seed: int = 0, days: list[int] | None = None
) -> tuple[AssurancePoint, ...]:
    """Assurance on each of ``days`` (default ``check_days``) at the planned daily volume.

    A point is the share of simulated trials whose rule is met when evaluated on that
    day (a fixed horizon); ``wrong_arm`` the share met with an arm that is not the best.
    """
    return tuple(evaluate(simulate(inputs, seed), days or check_days(inputs.max_days)))


@dataclass(frozen=True)
class LookRates:
    """What checking a trial every day and acting at the first verdict does, by simulation
    of the plan's design through the rule (``inference.rule.judge``)."""

    planned_days: int
    false_scale: float  # identical arms: share of trials with a ``scale`` on some day
    false_scale_error: float  # its Monte Carlo standard error
    verdict: float  # the design's lift: share reaching a verdict by the planned end
    winner: float  # ... of which a winner to scale


def daily_look_rates(inputs: PlanInputs, planned_days: int, seed: int = 0) -> LookRates:
    """The rule's false-scale rate with daily looks, and its chance of a verdict within
    ``planned_days``, at the plan's volume (each look reads the share of the planned days
    passed, as ``analyze`` does)."""
    inputs = replace(
        inputs, max_days=planned_days, rule=replace(inputs.rule, planned_days=planned_days)
    )
    days = list(range(1, planned_days + 1))
    t = np.asarray(days, dtype=np.float64)

    def first(sim: Simulated) -> tuple[np.ndarray, np.ndarray]:
        k = sim.successes
        n = sim.n_eff * t[None, :, None]
        met, code, _ = rule_met(
            1 + k,
            1 + n - k,
            sim.conversions,
            t[None, :],
            inputs.rule,
            t / planned_days,
            until_met=True,
        )
        scaled = (code == VERDICTS.index("scale")).any(axis=1)
        return met.any(axis=1), scaled

    _, false = first(simulate(inputs, seed, identical=True))
    reached, winner = first(simulate(inputs, seed + 1))
    p = float(false.mean())
    return LookRates(
        planned_days=planned_days,
        false_scale=p,
        false_scale_error=math.sqrt(max(p * (1 - p), 1e-12) / len(false)),
        verdict=float(reached.mean()),
        winner=float(winner.mean()),
    )
