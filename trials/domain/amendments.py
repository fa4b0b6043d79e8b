"""Amendments: changes to a trial's pre-registered plan made after its data came in.

Once a trial has data, its decision rule, its primary metric, its arms and their planned
budget shares are locked: changing any of them is an *amendment*, which needs a reason and
is recorded (who, when, the values before and after, why). Everything else about a trial
(name, hypothesis, dates, budget cap, status, ...) stays free to edit.

This module is pure: it compares specs and words amendments for people; the store decides
when an amendment is needed and records it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from trials.domain import DecisionRule, PrimaryMetric, TrialSpec, UserError

__all__ = [
    "Amendment",
    "AmendmentNeeded",
    "amendment_lines",
    "arms_value",
    "changes_rule",
    "describe_changes",
    "locked_changes",
    "rule_version",
]

# Changes smaller than this (rounding in a form's round trip) are not changes.
TOLERANCE = 1e-6

# The marketer's words for each locked field.
RULE_LABELS = {
    "min_days": "minimum days",
    "min_conversions_per_arm": "minimum conversions per arm",
    "probability_threshold": "probability",
    "expected_loss_threshold": "expected loss",
}
PERCENT_FIELDS = frozenset({"probability_threshold", "expected_loss_threshold"})
METRIC_WORDS = {
    PrimaryMetric.CONVERSION_RATE.value: "conversion rate",
    PrimaryMetric.ROAS.value: "ROAS",
    PrimaryMetric.CPA.value: "CPA",
}


class AmendmentNeeded(UserError):
    """A locked field of a trial with data was changed without a reason; nothing was saved."""

    def __init__(self, message: str, before: dict[str, Any], after: dict[str, Any]):
        super().__init__(message)
        self.before = before
        self.after = after


@dataclass(frozen=True)
class Amendment:
    """One recorded change to a trial's pre-registered plan.

    ``before`` and ``after`` hold only the fields that changed, keyed as
    ``"primary_metric"``, ``"decision_rule.<setting>"`` and ``"arms"`` (a list of
    ``{"name", "planned_share"}``).
    """

    id: int
    trial_id: int
    created_at: datetime
    created_by: str
    reason: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)

    @property
    def changes_rule(self) -> bool:
        """Whether it changed the decision rule or the primary metric."""
        return changes_rule(self.before) or changes_rule(self.after)


def locked_changes(old: TrialSpec, new: TrialSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) of the locked fields that differ between two specs; ({}, {}) if none.

    Arms are compared by name (ignoring case) and planned share (a blank share counts as the
    equal split it stands for), so reordering the arms, or typing the share a blank already
    meant, is no change.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if old.primary_metric != new.primary_metric:
        before["primary_metric"] = PrimaryMetric(old.primary_metric).value
        after["primary_metric"] = PrimaryMetric(new.primary_metric).value
    old_rule, new_rule = old.decision_rule.as_dict(), new.decision_rule.as_dict()
    for name in (f.name for f in fields(DecisionRule)):
        if not _same(old_rule[name], new_rule[name]):
            before[f"decision_rule.{name}"] = old_rule[name]
            after[f"decision_rule.{name}"] = new_rule[name]
    old_arms, new_arms = arms_value(old), arms_value(new)
    if not _same_arms(old_arms, new_arms):
        before["arms"] = old_arms
        after["arms"] = new_arms
    return before, after


def arms_value(spec: TrialSpec) -> list[dict[str, Any]]:
    """A spec's arms as an amendment records them: name and planned share, in order."""
    return [
        {"name": arm.name, "planned_share": round(share, 6)}
        for arm, share in zip(spec.arms, spec.planned_shares(), strict=True)
    ]


def changes_rule(values: dict[str, Any]) -> bool:
    """Whether ``before``/``after`` values touch the decision rule or the primary metric."""
    return any(k == "primary_metric" or k.startswith("decision_rule.") for k in values)


def rule_version(amendments: Iterable[Amendment]) -> int:
    """1 + the number of amendments that changed the decision rule or the primary metric."""
    return 1 + sum(a.changes_rule for a in amendments)


def describe_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Each change in plain words, e.g. ``"minimum days 7 → 3"``, ``"probability 95% → 80%"``."""
    out = []
    if "primary_metric" in before or "primary_metric" in after:
        out.append(
            f"primary metric {_metric(before.get('primary_metric'))} → "
            f"{_metric(after.get('primary_metric'))}"
        )
    for name, label in RULE_LABELS.items():
        key = f"decision_rule.{name}"
        if key in before or key in after:
            out.append(
                f"{label} {_rule_value(name, before.get(key))} → "
                f"{_rule_value(name, after.get(key))}"
            )
    if "arms" in before or "arms" in after:
        out.append(f"arms {_arms(before.get('arms'))} → {_arms(after.get('arms'))}")
    return out


def amendment_lines(amendments: Iterable[Amendment]) -> list[str]:
    """One plain sentence per amendment, oldest first as given, e.g.
    ``"2026-11-29 08:10 UTC, alice: minimum days 7 → 3, probability 95% → 80% — reason: …"``.
    """
    lines = []
    for a in amendments:
        when = a.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        changes = ", ".join(describe_changes(a.before, a.after)) or "no locked field changed"
        lines.append(f"{when}, {a.created_by}: {changes} — reason: {a.reason}")
    return lines


# -- helpers ----------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return math.isclose(a, b, rel_tol=0, abs_tol=TOLERANCE)
    return a == b


def _same_arms(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> bool:
    # Names as imports match them: a change of case alone is no change.
    old_shares = {a["name"].casefold(): a["planned_share"] for a in old}
    new_shares = {a["name"].casefold(): a["planned_share"] for a in new}
    return old_shares.keys() == new_shares.keys() and all(
        _same(share, new_shares[name]) for name, share in old_shares.items()
    )


def _percent(value: float) -> str:
    return f"{round(value * 100, 4):g}%"


def _rule_value(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name in PERCENT_FIELDS and isinstance(value, int | float):
        return _percent(value)
    return str(value)


def _metric(value: Any) -> str:
    return "–" if value is None else METRIC_WORDS.get(str(value), str(value))


def _arms(value: Any) -> str:
    if not value:
        return "none"
    return ", ".join(f"{a['name']} ({_percent(a['planned_share'])})" for a in value)
