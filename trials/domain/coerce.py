"""Loosely typed values (form fields, JSON, TOML) turned into the domain's types.

Each function converts what it can and, for what it cannot, appends a
:class:`~trials.domain.errors.Problem` to ``problems`` and returns None (or a default),
so a caller can report every problem at once instead of failing on the first.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from trials.domain.enums import AttributionRule, ResultsChoice, TrialStatus
from trials.domain.errors import Problem, TrialValidationError
from trials.domain.rules import DecisionRule

__all__ = ["coerce_choice", "coerce_date", "coerce_float", "coerce_rule"]

# Choices a trial may leave blank, and what blank means.
_ENUM_DEFAULTS = {
    "status": TrialStatus.DRAFT,
    "attribution_rule": AttributionRule.LAST_TOUCH,
    "results_source": ResultsChoice.AUTO,
}


def coerce_rule(raw: Any, problems: list[Problem]) -> DecisionRule:
    if isinstance(raw, DecisionRule):
        return raw
    if raw is not None and not isinstance(raw, dict):
        problems.append(Problem("decision_rule", "must be a table of settings"))
        return DecisionRule()
    try:
        return DecisionRule.from_dict(raw)
    except TrialValidationError as e:
        problems.extend(e.problems)
    except TypeError:
        problems.append(Problem("decision_rule", "settings must be numbers"))
    return DecisionRule()


def coerce_choice(v, key, enum, problems, allowed):
    raw = v.get(key)
    if raw in (None, ""):
        if key in _ENUM_DEFAULTS:
            return _ENUM_DEFAULTS[key]
        problems.append(Problem(key, f"is missing; one of {allowed}"))
        return None
    try:
        return enum(str(raw).strip().lower())
    except ValueError:
        problems.append(Problem(key, f"'{raw}' is not one of {allowed}"))
        return None


def coerce_date(v, key, problems) -> date | None:
    raw = v.get(key)
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if raw in (None, ""):
        problems.append(Problem(key, "is missing: give a date as YYYY-MM-DD"))
        return None
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        problems.append(Problem(key, f"'{raw}' is not a date; write it as YYYY-MM-DD"))
        return None


def coerce_float(v, key, problems, required=True) -> float | None:
    raw = v.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            problems.append(Problem(key, "is missing"))
        return None
    if isinstance(raw, bool):
        problems.append(Problem(key, f"'{raw}' is not a number"))
        return None
    try:
        number = float(str(raw).replace(",", "").strip()) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError):
        problems.append(Problem(key, f"'{raw}' is not a number"))
        return None
    if not math.isfinite(number):
        problems.append(Problem(key, f"'{raw}' is not a finite number"))
        return None
    return number
