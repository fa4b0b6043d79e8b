"""Sizing a trial before the money is spent: what a marketer knows (``PlanInputs``), the
plan (``plan_trial``: days, clicks and budget for the assurance, the classical sample size
beside it) and advice when the plan cannot answer within its limits. The method is in
``inference.planning``'s docstring; the simulation in ``inference.planning.assurance``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from scipy import stats

from inference.planning.assurance import (
    AssurancePoint,
    check_days,
    design_effect,
    evaluate,
    simulate,
)
from inference.rule.bars import Rule

__all__ = [
    "Advice",
    "Plan",
    "PlanError",
    "PlanInputs",
    "PlanRule",
    "classical_clicks_per_arm",
    "plan_trial",
]


class PlanError(ValueError):
    """Inputs a plan cannot be made from; the message names the input."""


PlanRule = Rule  # the rule a plan checks is the rule ``analyze`` applies


@dataclass(frozen=True)
class PlanInputs:
    """What a marketer knows before a trial.

    Attributes
    ----------
    baseline_cvr
        Conversions per click today. With ``metric="ctr"`` the plan is on clicks per
        impression instead and needs ``baseline_ctr``.
    lift
        The smallest relative lift worth finding (0.2 = +20 %).
    arms
        Arms in the trial, the control included.
    cpc
        Cost per click.
    clicks_per_day, daily_budget
        The whole trial's daily clicks, or its daily budget (clicks = budget / cpc); one
        of the two. Split evenly over the arms.
    assurance
        The assurance the plan is sized for.
    budget_cap
        The most the trial may spend (none: no cap).
    baseline_strength
        How well the baseline is known, in clicks (or impressions) of past data.
    concentration
        Day-to-day concentration kappa of the rates (the funnel model's prior median);
        ``None`` treats days as independent coin flips.
    """

    baseline_cvr: float
    lift: float
    arms: int
    cpc: float
    clicks_per_day: float | None = None
    daily_budget: float | None = None
    assurance: float = 0.8
    metric: str = "cvr"
    baseline_ctr: float | None = None
    revenue_per_conversion: float | None = None
    budget_cap: float | None = None
    max_days: int = 60
    rule: PlanRule = field(default_factory=PlanRule)
    baseline_strength: float = 2000.0
    concentration: float | None = 300.0
    simulations: int = 400

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise PlanError("; ".join(problems))

    def problems(self) -> list[str]:
        out = []
        if not 0 < self.baseline_cvr < 1:
            out.append("baseline conversion rate must be between 0 and 1 (e.g. 0.03 for 3 %)")
        if self.metric not in ("cvr", "ctr"):
            out.append("metric must be 'cvr' or 'ctr'")
        if self.baseline_ctr is not None and not 0 < self.baseline_ctr < 1:
            out.append("baseline CTR must be between 0 and 1 (e.g. 0.02 for 2 %)")
        if self.metric == "ctr" and self.baseline_ctr is None:
            out.append("planning on CTR needs a baseline CTR")
        if not self.lift > 0:
            out.append("lift must be above 0 (0.2 = +20 %)")
        elif (base := self.metric_baseline) is not None and 0 < base < 1 <= base * (1 + self.lift):
            out.append("baseline x (1 + lift) must stay below 1")
        if not (isinstance(self.arms, int) and 2 <= self.arms <= 50):
            out.append("arms must be a whole number from 2 to 50")
        if not self.cpc > 0:
            out.append("cost per click must be above 0")
        if (self.clicks_per_day is None) == (self.daily_budget is None):
            out.append("give either clicks per day or a daily budget")
        for name in ("clicks_per_day", "daily_budget"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                out.append(f"{name.replace('_', ' ')} must be above 0")
        if not 0 < self.assurance < 1:
            out.append("assurance must be between 0 and 1 (0.8 = 80 %)")
        if self.budget_cap is not None and not self.budget_cap > 0:
            out.append("budget cap must be above 0")
        if not (isinstance(self.max_days, int) and 1 <= self.max_days <= 365):
            out.append("max days must be a whole number from 1 to 365")
        if self.concentration is not None and not self.concentration > 0:
            out.append("concentration must be above 0")
        if not self.simulations >= 50:
            out.append("simulations must be at least 50")
        return out

    @property
    def metric_baseline(self) -> float:
        return self.baseline_ctr if self.metric == "ctr" else self.baseline_cvr

    @property
    def trial_clicks_per_day(self) -> float:
        if self.clicks_per_day is not None:
            return float(self.clicks_per_day)
        return float(self.daily_budget) / self.cpc

    @property
    def trial_daily_budget(self) -> float:
        if self.daily_budget is not None:
            return float(self.daily_budget)
        return float(self.clicks_per_day) * self.cpc

    @property
    def trials_per_arm_per_day(self) -> float:
        """Daily clicks per arm (impressions per arm for a CTR plan)."""
        clicks = self.trial_clicks_per_day / self.arms
        return clicks / self.baseline_ctr if self.metric == "ctr" else clicks


@dataclass(frozen=True)
class Advice:
    """One way to make the plan answer within its limits, with what it changes."""

    change: str
    days: int | None
    budget: float | None


@dataclass(frozen=True)
class Plan:
    inputs: PlanInputs
    curve: tuple[AssurancePoint, ...]
    days: int | None  # None: the assurance is not reached within max_days
    clicks_per_arm_for_assurance: float | None
    budget: float | None
    classical_clicks_per_arm: int
    design_effect: float
    within_limits: bool
    advice: tuple[Advice, ...]
    seed: int


def classical_clicks_per_arm(
    baseline: float, lift: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Fixed-horizon sample size per arm for two proportions (two-sided, no correction)."""
    p1, p2 = baseline, baseline * (1 + lift)
    p_bar = (p1 + p2) / 2
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    root = z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root**2 / (p2 - p1) ** 2)


def plan_trial(inputs: PlanInputs, seed: int = 0, advise: bool = True) -> Plan:
    """Size a trial for ``inputs.assurance``; with advice when it cannot be done in its limits."""
    sim = simulate(inputs, seed)
    curve = evaluate(sim, check_days(inputs.max_days))
    first = next((i for i, p in enumerate(curve) if p.assurance >= inputs.assurance), None)
    if first is not None and first > 0 and curve[first].days - curve[first - 1].days > 1:
        # Fill in the days between the last check below the target and the first above.
        between = list(range(curve[first - 1].days + 1, curve[first].days))
        curve = sorted([*curve, *evaluate(sim, between)], key=lambda p: p.days)
    point = next((p for p in curve if p.assurance >= inputs.assurance), None)
    within = point is not None and (
        inputs.budget_cap is None or point.budget <= inputs.budget_cap + 1e-9
    )
    return Plan(
        inputs=inputs,
        curve=tuple(curve),
        days=point.days if point else None,
        clicks_per_arm_for_assurance=point.clicks_per_arm if point else None,
        budget=point.budget if point else None,
        classical_clicks_per_arm=classical_clicks_per_arm(inputs.metric_baseline, inputs.lift),
        design_effect=design_effect(inputs.trials_per_arm_per_day, inputs.concentration),
        within_limits=within,
        advice=() if within or not advise else _advice(inputs, seed),
        seed=seed,
    )


def _advice(inputs: PlanInputs, seed: int) -> tuple[Advice, ...]:
    """Ways to make the question answerable: fewer arms, a bigger lift, longer, higher up."""
    quick = replace(inputs, simulations=min(inputs.simulations, 200))
    options: list[tuple[str, PlanInputs]] = []
    if inputs.arms > 2:
        options.append((f"Test 2 arms instead of {inputs.arms}", replace(quick, arms=2)))
    for factor in (1.5, 2.0, 3.0):
        lift = inputs.lift * factor
        if inputs.metric_baseline * (1 + lift) < 1:
            options.append((f"Look for a lift of {lift:.0%} or more", replace(quick, lift=lift)))
    if inputs.max_days < 120:
        longer = min(inputs.max_days * 2, 120)
        options.append((f"Allow up to {longer} days", replace(quick, max_days=longer)))
    if inputs.metric == "cvr" and inputs.baseline_ctr is not None:
        options.append(
            (
                "Decide on CTR (clicks per impression), higher in the funnel",
                replace(quick, metric="ctr"),
            ),
        )
    out = []
    for change, option in options:
        plan = plan_trial(option, seed, advise=False)
        if plan.days is not None:
            cap_ok = inputs.budget_cap is None or plan.budget <= inputs.budget_cap + 1e-9
            out.append(
                Advice(
                    change + ("" if cap_ok else " (still over the budget cap)"),
                    plan.days,
                    plan.budget,
                )
            )
        else:
            out.append(Advice(change + " (not enough on its own)", None, None))
    return tuple(out)
