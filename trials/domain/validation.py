"""Checks on a trial's plan, each problem tied to the field it was typed in.

Also the small value checks the domain's dataclasses share: text with its spaces
collapsed, finite numbers, whole numbers.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, Any

from trials.domain import limits
from trials.domain.errors import Problem

if TYPE_CHECKING:
    from trials.domain.spec import ArmSpec

__all__ = [
    "SHARE_TOLERANCE",
    "arm_list_problems",
    "clean_text",
    "is_int",
    "is_number",
    "spec_problems",
]

# Shares given per arm may be rounded by the person typing them (33.3 % x 3).
SHARE_TOLERANCE = 0.005


def clean_text(value: Any) -> str:
    # Collapse whitespace so "WeChat " and "WeChat" are one channel.
    return " ".join(str(value if value is not None else "").split())


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def spec_problems(
    *,
    name: Any,
    currency: Any,
    break_even_roas: Any,
    gross_margin: Any,
    budget: Any,
    start: Any,
    end: Any,
) -> list[Problem]:
    """Checks on a trial's own fields (not its arms)."""
    out = []
    name = clean_text(name)
    if not name:
        out.append(Problem("name", "is empty: give the trial a name"))
    elif len(name) > limits.TRIAL_NAME:
        out.append(Problem("name", f"is longer than {limits.TRIAL_NAME} characters"))
    currency = clean_text(currency)
    if not (currency.isascii() and currency.isalpha() and 3 <= len(currency) <= 4):
        out.append(Problem("currency", "must be a currency code such as CNY, USD or EUR"))
    if break_even_roas is None and gross_margin is None:
        out.append(
            Problem("break_even_roas", "is missing: give a break-even ROAS or a gross margin")
        )
    elif break_even_roas is not None and (not is_number(break_even_roas) or break_even_roas <= 0):
        out.append(
            Problem("break_even_roas", "must be above 0 (e.g. 2.5 = 2.5 revenue per 1 spent)")
        )
    if gross_margin is not None and not (is_number(gross_margin) and 0 < gross_margin <= 1):
        out.append(Problem("gross_margin", "must be between 0 and 1 (0.4 = 40 %)"))
    if budget is None:
        out.append(Problem("budget", "is missing: give the total budget cap (0 for none)"))
    elif not is_number(budget) or budget < 0:
        out.append(Problem("budget", "must be 0 or more"))
    elif budget > limits.MAX_TOTAL_AMOUNT:
        out.append(
            Problem(
                "budget",
                f"{budget:,.2f} is more than the largest accepted "
                f"({limits.MAX_TOTAL_AMOUNT:,}); check the number",
            )
        )
    for key, value in (("start", start), ("end", end)):
        if not isinstance(value, date):
            out.append(Problem(key, "is missing: give a date as YYYY-MM-DD"))
    if isinstance(start, date) and isinstance(end, date) and end < start:
        out.append(Problem("end", "is before the start date"))
    return out


def arm_list_problems(arms: tuple[ArmSpec, ...] | list[ArmSpec]) -> list[Problem]:
    """Checks on a trial's arms: each arm, uniqueness, control and budget shares."""
    out: list[Problem] = []
    if len(arms) < 2:
        out.append(
            Problem("arms", "a trial needs at least two arms to compare (channel x creative)")
        )
    seen: dict[tuple[str, str], int] = {}
    for i, arm in enumerate(arms):
        out.extend(arm.problems(f"arms[{i}]"))
        key = (arm.channel.casefold(), arm.creative.casefold())
        if arm.channel and arm.creative and key in seen:
            out.append(
                Problem(
                    f"arms[{i}]",
                    f"'{arm.name}' appears twice (arms {seen[key] + 1} and {i + 1}); "
                    "each channel x creative pair must be unique",
                )
            )
        seen.setdefault(key, i)
    if sum(a.control for a in arms) > 1:
        out.append(Problem("arms", "mark at most one arm as the control"))
    given = [a.budget_share for a in arms if a.budget_share is not None]
    if all(is_number(s) for s in given):
        total = sum(given)
        if total > 1 + SHARE_TOLERANCE:
            out.append(
                Problem("arms", f"planned budget shares add up to {total:.1%}; at most 100 %")
            )
        elif arms and len(given) == len(arms) and total < 1 - SHARE_TOLERANCE:
            out.append(
                Problem(
                    "arms",
                    f"planned budget shares add up to {total:.1%}; they must add up to 100 % "
                    "(or leave some blank to split the rest equally)",
                )
            )
    return out
