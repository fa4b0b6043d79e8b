"""The pre-registered decision rule a trial is judged by."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from trials.domain.errors import Problem, TrialValidationError
from trials.domain.validation import is_int, is_number

__all__ = ["DecisionRule"]


@dataclass(frozen=True)
class DecisionRule:
    """The pre-registered rule a trial is decided by.

    Attributes
    ----------
    min_days
        Days with data every arm needs before any arm may be scaled.
    min_conversions_per_arm
        Conversions every arm needs before any arm may be scaled.
    probability_threshold
        Posterior probability an arm must reach (to be best, or to beat control) to be scaled.
    expected_loss_threshold
        Largest acceptable expected loss of choosing an arm, as a share of the leading
        arm's value on the primary metric (0.01 = 1 %).
    equivalence_margin
        Arms within this share of the leader (0.1 = ±10 %) are practically equal; the
        trial ends as "equal" when every arm is within it with ``probability_threshold``.

    How these combine into a verdict is stated once, in ``inference.rule``.
    """

    min_days: int = 7
    min_conversions_per_arm: int = 25
    probability_threshold: float = 0.95
    expected_loss_threshold: float = 0.01
    equivalence_margin: float = 0.1

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise TrialValidationError(problems)

    def problems(self, prefix: str = "decision_rule") -> list[Problem]:
        out = []
        if not is_int(self.min_days) or self.min_days < 1:
            out.append(Problem(f"{prefix}.min_days", "must be a whole number of days, at least 1"))
        if not is_int(self.min_conversions_per_arm) or self.min_conversions_per_arm < 0:
            out.append(
                Problem(f"{prefix}.min_conversions_per_arm", "must be a whole number, 0 or more")
            )
        if not is_number(self.probability_threshold) or not 0.5 < self.probability_threshold < 1:
            out.append(
                Problem(
                    f"{prefix}.probability_threshold",
                    "must be between 0.5 and 1 (e.g. 0.95 for 95 %)",
                )
            )
        if not is_number(self.expected_loss_threshold) or not 0 < self.expected_loss_threshold < 1:
            out.append(
                Problem(
                    f"{prefix}.expected_loss_threshold",
                    "must be a share between 0 and 1 (e.g. 0.01 for 1 %)",
                )
            )
        if not is_number(self.equivalence_margin) or not 0 < self.equivalence_margin < 1:
            out.append(
                Problem(
                    f"{prefix}.equivalence_margin",
                    "must be a share between 0 and 1 (e.g. 0.1 for ±10 %)",
                )
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, overrides: dict[str, Any] | None) -> DecisionRule:
        """Defaults merged with ``overrides``; unknown keys are refused, not dropped."""
        overrides = dict(overrides or {})
        known = sorted(f.name for f in fields(cls))
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise TrialValidationError(
                [
                    Problem(f"decision_rule.{k}", f"unknown setting; known: {', '.join(known)}")
                    for k in unknown
                ]
            )
        return cls(**(cls().as_dict() | overrides))
