"""Progress toward a decision while a trial runs: how many more days at today's volume it
likely needs before its rule is met (simulated from today's posteriors)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from inference.planning.assurance import design_effect
from inference.planning.looks import rule_met
from inference.rule.bars import Rule

__all__ = ["DecisionProgress", "progress_to_decision"]


@dataclass(frozen=True)
class DecisionProgress:
    """How far a running trial is from its decision rule, at today's volume.

    ``reached`` means the rule is met on today's data. Otherwise ``probability_by_day``
    gives, for 1 .. horizon more days, the chance the rule is met by then (simulated from
    the current posterior), and ``days_median`` / ``days_80`` the extra days at which
    that chance passes 50 % and 80 % (``None``: not within the horizon).
    """

    reached: bool
    probability_by_day: tuple[float, ...]
    days_median: int | None
    days_80: int | None
    reason: str | None = None


def progress_to_decision(
    trials: np.ndarray,
    successes: np.ndarray,
    trials_per_day: np.ndarray,
    days_so_far: int,
    rule: Rule,
    *,
    conversions: np.ndarray | None = None,
    conversions_per_trial: float = 1.0,
    horizon: int = 60,
    simulations: int = 400,
    concentration: float | None = 300.0,
    planned_days: int | None = None,
    seed: int = 0,
) -> DecisionProgress:
    """Extra days until the rule is likely met, simulating future days from the posterior.

    ``trials`` and ``successes`` are the arms' counts so far (clicks and conversions for
    a conversion-rate trial), ``trials_per_day`` their recent daily volume. As in the
    planner, counts are discounted by the design effect of their daily volume, true rates
    are drawn from today's Beta(1 + k, 1 + n - k) posteriors on those effective counts,
    future days from them, and the rule is checked on each future day. With
    ``planned_days`` the rule's look boundary reads the share of them that has passed.
    """
    trials = np.asarray(trials, dtype=np.float64)
    successes = np.asarray(successes, dtype=np.float64)
    per_day = np.asarray(trials_per_day, dtype=np.float64)
    conversions = successes if conversions is None else np.asarray(conversions, float)
    if len(trials) < 2:
        return DecisionProgress(False, (), None, None, "a decision needs at least two arms")
    effect = np.array([design_effect(n, concentration) for n in per_day])
    n, k = trials / effect, successes / effect
    rule = replace(rule, planned_days=planned_days)
    if _met_today(n, k, conversions, days_so_far, rule):
        return DecisionProgress(True, (), 0, 0)
    if not (per_day > 0).all():
        return DecisionProgress(
            False, (), None, None, "some arms had no traffic lately, so no date can be given"
        )
    n_day = np.maximum(np.round(per_day / effect), 1).astype(np.int64)
    by_day = _met_by_day(
        n,
        k,
        n_day,
        conversions,
        per_day,
        days_so_far,
        rule,
        conversions_per_trial,
        horizon=horizon,
        simulations=simulations,
        seed=seed,
    )
    return DecisionProgress(
        False, tuple(float(p) for p in by_day), _first(by_day, 0.5), _first(by_day, 0.8)
    )


def _met_today(n, k, conversions, days_so_far: int, rule: Rule) -> bool:
    """The rule is met on today's posteriors Beta(1 + k, 1 + n - k) (effective counts)."""
    now = (1 + k)[None, None], (1 + n - k)[None, None]
    share = _share(days_so_far, rule.planned_days)
    met, _, _ = rule_met(*now, conversions[None, None], np.asarray(days_so_far), rule, share)
    return bool(met[0, 0])


def _share(days, planned_days: int | None):
    """The share of the planned days passed by ``days`` (1 without a plan)."""
    return 1.0 if not planned_days else np.asarray(days, float) / planned_days


def _met_by_day(
    n: np.ndarray,
    k: np.ndarray,
    n_day: np.ndarray,
    conversions: np.ndarray,
    per_day: np.ndarray,
    days_so_far: int,
    rule: Rule,
    conversions_per_trial: float,
    *,
    horizon: int,
    simulations: int,
    seed: int,
) -> np.ndarray:
    """The chance the rule is met by each of 1 .. ``horizon`` more days, from true rates
    drawn from today's Beta(1 + k, 1 + n - k) (effective counts ``n``, ``k``) and future
    days of ``n_day`` effective trials per arm."""
    rng = np.random.default_rng(seed)
    rates = rng.beta(1 + k, 1 + n - k, size=(simulations, len(n)))
    daily = rng.binomial(
        np.broadcast_to(n_day, (simulations, horizon, len(n))), rates[:, None, :]
    ).astype(np.float64)
    future = np.cumsum(daily, axis=1)
    extra = np.arange(1, horizon + 1, dtype=np.float64)
    n_then = n + n_day * extra[None, :, None]
    k_then = k + future
    conv = conversions + future * (per_day / n_day) * conversions_per_trial
    then = days_so_far + extra[None, :]
    share = _share(then, rule.planned_days)
    met, _, _ = rule_met(1 + k_then, 1 + n_then - k_then, conv, then, rule, share, until_met=True)
    return np.maximum.accumulate(met, axis=1).mean(axis=0)


def _first(by_day: np.ndarray, level: float) -> int | None:
    """The first extra day by which the chance reaches ``level`` (None: not in the horizon)."""
    hits = np.nonzero(by_day >= level)[0]
    return int(hits[0] + 1) if len(hits) else None
