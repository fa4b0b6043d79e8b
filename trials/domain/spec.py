"""A trial as the marketer plans it: its arms, its settings and how it is judged.

:meth:`TrialSpec.build` reads one from loosely typed values (form fields, JSON, TOML) and
reports every problem at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from trials.domain import limits
from trials.domain.coerce import coerce_choice, coerce_date, coerce_float, coerce_rule
from trials.domain.enums import AttributionRule, PrimaryMetric, ResultsChoice, TrialStatus
from trials.domain.errors import Problem, TrialValidationError
from trials.domain.rules import DecisionRule
from trials.domain.validation import arm_list_problems, clean_text, is_number, spec_problems

__all__ = ["TRIAL_FIELDS", "ArmSpec", "TrialSpec"]

TRIAL_FIELDS = frozenset(
    {
        "name",
        "hypothesis",
        "primary_metric",
        "break_even_roas",
        "gross_margin",
        "currency",
        "start",
        "end",
        "budget",
        "arms",
        "status",
        "decision_rule",
        "attribution_rule",
        "results_source",
    }
)


@dataclass(frozen=True)
class ArmSpec:
    """One channel x one creative (or content variant) as the marketer plans it.

    ``budget_share`` is the planned share of the trial's spend (0-1); ``None`` means
    "an equal share of what the other arms leave".
    """

    channel: str
    creative: str
    budget_share: float | None = None
    control: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel", clean_text(self.channel))
        object.__setattr__(self, "creative", clean_text(self.creative))

    @property
    def name(self) -> str:
        return f"{self.channel} · {self.creative}"

    def problems(self, prefix: str) -> list[Problem]:
        out = []
        if not self.channel:
            out.append(Problem(f"{prefix}.channel", "is empty: name the channel, e.g. WeChat"))
        elif len(self.channel) > limits.CHANNEL:
            out.append(Problem(f"{prefix}.channel", f"is longer than {limits.CHANNEL} characters"))
        if not self.creative:
            out.append(Problem(f"{prefix}.creative", "is empty: name the creative, e.g. Video A"))
        elif len(self.creative) > limits.CREATIVE:
            out.append(
                Problem(f"{prefix}.creative", f"is longer than {limits.CREATIVE} characters")
            )
        if self.budget_share is not None and (
            not is_number(self.budget_share) or not 0 <= self.budget_share <= 1
        ):
            out.append(
                Problem(f"{prefix}.budget_share", "must be a share between 0 and 1 (0.5 = 50 %)")
            )
        return out


@dataclass(frozen=True)
class TrialSpec:
    """A trial as registered: what is tested, how it is judged, and its arms."""

    name: str
    primary_metric: PrimaryMetric
    break_even_roas: float
    currency: str
    start: date
    end: date
    budget: float
    arms: tuple[ArmSpec, ...]
    hypothesis: str = ""
    gross_margin: float | None = None
    status: TrialStatus = TrialStatus.DRAFT
    decision_rule: DecisionRule = field(default_factory=DecisionRule)
    is_demo: bool = False
    attribution_rule: AttributionRule = AttributionRule.LAST_TOUCH
    results_source: ResultsChoice = ResultsChoice.AUTO

    def __post_init__(self) -> None:
        object.__setattr__(self, "attribution_rule", AttributionRule(self.attribution_rule))
        object.__setattr__(self, "results_source", ResultsChoice(self.results_source))
        object.__setattr__(self, "name", clean_text(self.name))
        object.__setattr__(self, "hypothesis", str(self.hypothesis or "").strip())
        object.__setattr__(self, "currency", clean_text(self.currency).upper())
        object.__setattr__(self, "arms", tuple(self.arms))
        problems = self.problems()
        if problems:
            raise TrialValidationError(problems)

    @classmethod
    def build(cls, **values: Any) -> TrialSpec:
        """Construct from loosely typed values (form fields, JSON, TOML).

        Converts what can be converted and reports every problem at once, instead of
        failing on the first. A gross margin stands in for the break-even ROAS
        (break-even = 1 / margin). ``is_demo`` is refused: only the demo loader makes
        demo trials.
        """
        v = dict(values)
        problems = _unknown_fields(v)
        choices = _coerce_choices(v, problems)
        plan = _coerce_dates_and_amounts(v, problems)
        arms = _coerce_arms(v.get("arms"), problems)
        rule = coerce_rule(v.get("decision_rule"), problems)
        problems.extend(_field_problems_not_yet_reported(v, plan, problems))
        if problems:
            raise TrialValidationError(problems)
        return cls(
            name=str(v.get("name") or ""),
            hypothesis=str(v.get("hypothesis") or ""),
            currency=str(v.get("currency") or ""),
            arms=tuple(arms),
            decision_rule=rule,
            **choices,
            **plan,
        )

    def problems(self) -> list[Problem]:
        return spec_problems(
            name=self.name,
            currency=self.currency,
            break_even_roas=self.break_even_roas,
            gross_margin=self.gross_margin,
            budget=self.budget,
            start=self.start,
            end=self.end,
        ) + arm_list_problems(self.arms)

    def planned_shares(self) -> tuple[float, ...]:
        """Each arm's planned share of spend; blank shares split what is left equally."""
        given = sum(a.budget_share for a in self.arms if a.budget_share is not None)
        blanks = sum(a.budget_share is None for a in self.arms)
        rest = max(0.0, 1.0 - given) / blanks if blanks else 0.0
        return tuple(a.budget_share if a.budget_share is not None else rest for a in self.arms)

    def with_changes(self, **changes: Any) -> TrialSpec:
        return replace(self, **changes)


# -- the steps of TrialSpec.build, in the order their problems are reported -------------

# Each choice: its field, its type, and the values it allows in plain words.
_CHOICES = (
    ("primary_metric", PrimaryMetric, "conversion_rate, roas or cpa"),
    ("status", TrialStatus, "draft, running, decided or archived"),
    ("attribution_rule", AttributionRule, "last_touch or split"),
    ("results_source", ResultsChoice, "auto, channel or orders"),
)


# Stored with a trial but never read from what a user supplies.
_NOT_GIVEN = {
    "is_demo": "demo trials come only from the demo loader (`python -m trials demo`, or "
    "'Load demo trials' in the app); a trial you create is never a demo, so its data and "
    "decisions are never deleted as demo data. Remove this field",
}


def _unknown_fields(v: dict[str, Any]) -> list[Problem]:
    return [
        Problem(
            key,
            _NOT_GIVEN.get(key)
            or f"unknown field; known fields: {', '.join(sorted(TRIAL_FIELDS))}",
        )
        for key in sorted(set(v) - TRIAL_FIELDS)
    ]


def _coerce_choices(v: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """The metric, status, attribution rule and results source (blank: the default)."""
    return {key: coerce_choice(v, key, enum, problems, allowed) for key, enum, allowed in _CHOICES}


def _coerce_dates_and_amounts(v: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """Start, end, budget, gross margin and break-even ROAS, named as TrialSpec's fields."""
    plan = {
        "start": coerce_date(v, "start", problems),
        "end": coerce_date(v, "end", problems),
        "budget": coerce_float(v, "budget", problems),
        "gross_margin": coerce_float(v, "gross_margin", problems, required=False),
    }
    break_even = coerce_float(v, "break_even_roas", problems, required=False)
    plan["break_even_roas"] = _break_even(break_even, plan["gross_margin"], problems)
    return plan


def _break_even(
    break_even: float | None, margin: float | None, problems: list[Problem]
) -> float | None:
    """A gross margin stands in for the break-even ROAS (break-even = 1 / margin); given
    both, they must agree."""
    if margin is not None and 0 < margin <= 1:
        if break_even is None:
            return 1 / margin
        if not math.isclose(break_even, 1 / margin, rel_tol=1e-3):
            problems.append(
                Problem(
                    "break_even_roas",
                    f"disagrees with gross margin {margin:g} (break-even = 1 / margin = "
                    f"{1 / margin:.3g}); give one of the two",
                )
            )
    return break_even


def _field_problems_not_yet_reported(
    v: dict[str, Any], plan: dict[str, Any], problems: list[Problem]
) -> list[Problem]:
    """The checks on the trial's own fields, leaving out fields already reported."""
    already = {p.field for p in problems}
    checked = spec_problems(name=v.get("name"), currency=v.get("currency"), **plan)
    too_long = limits.text_problem(str(v.get("hypothesis") or "").strip(), limits.LONG_TEXT)
    if too_long:
        checked.append(Problem("hypothesis", too_long))
    if "\x00" in str(v.get("name") or ""):
        checked.append(Problem("name", limits.NUL_PROBLEM))
    return [p for p in checked if p.field not in already]


def _coerce_arms(raw: Any, problems: list[Problem]) -> list[ArmSpec]:
    if raw is None:
        problems.append(Problem("arms", "are missing: list at least two channel x creative arms"))
        return []
    if not isinstance(raw, list | tuple):
        problems.append(Problem("arms", "must be a list of arms"))
        return []
    arms = []
    for i, item in enumerate(raw):
        if isinstance(item, ArmSpec):
            arms.append(item)
            continue
        if not isinstance(item, dict):
            problems.append(Problem(f"arms[{i}]", "must have a channel and a creative"))
            continue
        unknown = sorted(set(item) - {"channel", "creative", "budget_share", "control"})
        for key in unknown:
            problems.append(
                Problem(
                    f"arms[{i}].{key}",
                    "unknown field; an arm has channel, creative, budget_share and control",
                )
            )
        share = coerce_float(item, "budget_share", local := [], required=False)
        problems.extend(Problem(f"arms[{i}].{p.field}", p.message) for p in local)
        control = item.get("control", False)
        if not isinstance(control, bool):
            problems.append(Problem(f"arms[{i}].control", "must be true or false"))
            control = False
        for key in ("channel", "creative"):
            if "\x00" in str(item.get(key) or ""):
                problems.append(Problem(f"arms[{i}].{key}", limits.NUL_PROBLEM))
        arms.append(
            ArmSpec(
                channel=item.get("channel", ""),
                creative=item.get("creative", ""),
                budget_share=share,
                control=control,
            )
        )
    problems.extend(arm_list_problems(arms))
    return arms
