"""Scale plans: stepping a winning arm's daily spend up, with the stop condition written
down before the first step.

A plan says: from ``start``, spend ``base_daily_spend`` a day for ``step_days`` days,
then ``(1 + step)`` times that for the next ``step_days`` days, and so on (step k spends
base × (1 + step)^k a day); stop stepping once the marginal ROAS at the current step's
spend is below the break-even ROAS with probability at least ``stop_probability``.

The settings are written once: a plan is never edited. A different plan replaces it (the
old one ends as *replaced*, the new one names it and says why), and ending a plan records
who and why (*stopped* by hand, or *finished* when its stop condition was met).

This module is pure: the schedule and the checks on the settings. The store keeps plans;
``trials.analysis.scale_plan`` tracks one against the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from trials.domain.errors import Problem, TrialValidationError
from trials.domain.limits import LONG_TEXT, MAX_AMOUNT, text_problem

__all__ = [
    "MAX_STEP",
    "MAX_STEP_DAYS",
    "MIN_STEP",
    "MIN_STEP_DAYS",
    "PlanStatus",
    "ScalePlan",
    "ScaleSettings",
    "ScaleStep",
    "step_at",
]

MIN_STEP = 0.1  # +10 %: smaller steps are too close for the response curve to tell apart
MAX_STEP = 2.0  # +200 %: tripling a day's spend in one move is a relaunch, not a step
MIN_STEP_DAYS = 3  # the response curve reads a spend level from 3 days on
MAX_STEP_DAYS = 60
MIN_STOP_PROBABILITY = 0.5
MAX_STOP_PROBABILITY = 0.99
MAX_STEPS = 40  # steps listed in a schedule at most (1.1^40 is already 45 times the base)


class PlanStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"  # ended by hand before its stop condition was met
    FINISHED = "finished"  # ended when its stop condition was met
    REPLACED = "replaced"  # a new plan for the same arm took its place


@dataclass(frozen=True)
class ScaleSettings:
    """What a plan is written down with (checked by :meth:`problems`)."""

    base_daily_spend: float
    step: float = 0.5
    step_days: int = 7
    stop_probability: float = 0.8

    def problems(self) -> list[Problem]:
        out = []
        b = self.base_daily_spend
        if not _number(b) or b <= 0:
            out.append(Problem("base_daily_spend", "must be a daily spend above 0"))
        elif b > MAX_AMOUNT:
            out.append(Problem("base_daily_spend", f"must be at most {MAX_AMOUNT:,}"))
        if not _number(self.step) or not MIN_STEP <= self.step <= MAX_STEP:
            out.append(
                Problem(
                    "step",
                    f"must be between {MIN_STEP:.0%} and {MAX_STEP:.0%} more spend per step "
                    "(0.5 is +50 %)",
                )
            )
        days = self.step_days
        if isinstance(days, bool) or not isinstance(days, int):
            out.append(Problem("step_days", "must be a whole number of days"))
        elif not MIN_STEP_DAYS <= days <= MAX_STEP_DAYS:
            out.append(
                Problem(
                    "step_days",
                    f"must be {MIN_STEP_DAYS} to {MAX_STEP_DAYS} days (the response curve "
                    f"reads a spend level from {MIN_STEP_DAYS} days on)",
                )
            )
        p = self.stop_probability
        if not _number(p) or not MIN_STOP_PROBABILITY <= p <= MAX_STOP_PROBABILITY:
            out.append(
                Problem(
                    "stop_probability",
                    f"must be between {MIN_STOP_PROBABILITY:.0%} and {MAX_STOP_PROBABILITY:.0%}",
                )
            )
        return out

    def check(self) -> ScaleSettings:
        problems = self.problems()
        if problems:
            raise TrialValidationError(problems)
        return self


@dataclass(frozen=True)
class ScaleStep:
    """Step ``index`` of a plan: its dates (both included) and its daily spend."""

    index: int
    start: date
    end: date
    daily_spend: float

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class ScalePlan:
    """A written-down plan to step one arm's daily spend up (see the module docstring)."""

    id: int | None
    trial_id: int
    arm_id: int
    arm_name: str
    settings: ScaleSettings
    break_even_roas: float  # the trial's, when the plan was written
    start: date
    created_at: datetime
    created_by: str
    status: PlanStatus = PlanStatus.ACTIVE
    replaces: int | None = None  # the plan this one replaced
    reason: str = ""  # why it replaced that plan
    ended_at: datetime | None = None
    ended_by: str | None = None
    end_reason: str = ""

    @property
    def base_daily_spend(self) -> float:
        return self.settings.base_daily_spend

    @property
    def step(self) -> float:
        return self.settings.step

    @property
    def step_days(self) -> int:
        return self.settings.step_days

    @property
    def stop_probability(self) -> float:
        return self.settings.stop_probability

    @property
    def active(self) -> bool:
        return self.status is PlanStatus.ACTIVE

    def step_spend(self, index: int) -> float:
        """Step ``index``'s planned daily spend: base × (1 + step)^index."""
        return self.base_daily_spend * (1 + self.step) ** index

    def step_of(self, day: date) -> int | None:
        """The index of the step ``day`` falls in (None before the start)."""
        return step_at(self.start, self.step_days, day)

    def schedule(self, steps: int) -> tuple[ScaleStep, ...]:
        """The first ``steps`` steps (at most ``MAX_STEPS``)."""
        n = max(0, min(int(steps), MAX_STEPS))
        d = self.step_days
        return tuple(
            ScaleStep(
                k,
                self.start + timedelta(days=k * d),
                self.start + timedelta(days=(k + 1) * d - 1),
                self.step_spend(k),
            )
            for k in range(n)
        )

    def step_entry(self, index: int) -> ScaleStep:
        d = self.step_days
        start = self.start + timedelta(days=index * d)
        return ScaleStep(index, start, start + timedelta(days=d - 1), self.step_spend(index))

    def planned_spend_on(self, day: date) -> float | None:
        """The planned daily spend on ``day`` (None before the plan starts)."""
        k = self.step_of(day)
        return None if k is None else self.step_spend(k)

    def same_settings(self, other: ScaleSettings, start: date) -> bool:
        mine = self.settings
        return (
            start == self.start
            and math.isclose(mine.base_daily_spend, other.base_daily_spend, rel_tol=1e-9)
            and math.isclose(mine.step, other.step, rel_tol=1e-9)
            and mine.step_days == other.step_days
            and math.isclose(mine.stop_probability, other.stop_probability, rel_tol=1e-9)
        )

    def stop_condition(self) -> str:
        """The stop condition in words."""
        return (
            f"stop stepping when the marginal ROAS at the current step's spend is below "
            f"break-even {self.break_even_roas:g} with probability {self.stop_probability:.0%} "
            "or more"
        )


def step_at(start: date, step_days: int, day: date) -> int | None:
    """The step index of ``day`` in a schedule starting ``start`` (None before it)."""
    if day < start:
        return None
    return (day - start).days // step_days


def reason_problem(reason: str, what: str) -> str | None:
    """Why ``reason`` cannot be recorded (None when it can)."""
    if not reason.strip():
        return f"{what} needs a reason: say why"
    return text_problem(reason, LONG_TEXT)


def _number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
