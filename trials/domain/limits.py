"""The largest values the registry stores, stated once, and the checks that apply them.

The same bounds hold on SQLite and PostgreSQL, so a value is accepted or refused the same
way on both, with a message that names the field and the limit (SQLite would store an
over-long text or an out-of-range number that PostgreSQL refuses, or that overflows a
64-bit integer on the way in).

Text is counted in characters after spaces are collapsed. Where a limit is below its
column's size, it is so an index on that column stays within PostgreSQL's index row size
(about 2,700 bytes, and a character may take 4): the four UTM values of a rule are
indexed together.

Numbers: counts and money are stored as 64-bit integers (money in micro-units, so the
largest amount a column holds is 9,223,372,036,854 units). One row may hold up to
``MAX_AMOUNT`` (a hundred billion in the trial's currency: above any real day of one
arm, even in currencies with large units) and ``MAX_COUNT`` (a trillion impressions);
a trial's totals, summed by the database, stay below ``MAX_TOTAL_AMOUNT`` and
``MAX_TOTAL_COUNT``, which the store checks before each write.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trials.domain.errors import Problem

__all__ = [
    "CHANNEL",
    "COUNT_FIELDS",
    "CREATIVE",
    "FILE_NAME",
    "LONG_TEXT",
    "MAX_AMOUNT",
    "MAX_COUNT",
    "MAX_TOTAL_AMOUNT",
    "MAX_TOTAL_COUNT",
    "MONEY_FIELDS",
    "NUL_PROBLEM",
    "ORDER_ARM_TEXT",
    "ORDER_ID",
    "SEGMENT",
    "TRIAL_NAME",
    "USER_NAME",
    "UTM_VALUE",
    "amount_problem",
    "count_problem",
    "number_problems",
    "text_problem",
    "user_name_problems",
]

# -- text, in characters ------------------------------------------------------------------

TRIAL_NAME = 120
CHANNEL = 80
CREATIVE = 120
SEGMENT = 120  # a row's segment: customer group, region, device, placement
USER_NAME = 120  # who made a write (the signed-in user, or TRIALS_USER)
FILE_NAME = 255  # an imported file's name, kept with its import (filesystems allow 255)
# Order ids from shops and platforms are short (Shopify's GIDs about 40 characters,
# UUIDs 36, Amazon 19); 120 leaves room for composite keys. A longer value is a wrong
# column taken as the order id (a URL, a JSON blob), so it is refused, not stored.
ORDER_ID = 120
# Google Analytics keeps 100 characters of a campaign value; 150 leaves room and keeps a
# UTM rule's four values within PostgreSQL's index row size in any script.
UTM_VALUE = 150
ORDER_ARM_TEXT = 255  # an order's channel or creative column
LONG_TEXT = 10_000  # a hypothesis, a decision's note or budget change, an amendment's reason

# -- numbers ------------------------------------------------------------------------------

MAX_COUNT = 10**12
MAX_AMOUNT = 10**11
MAX_TOTAL_COUNT = 9 * 10**18
MAX_TOTAL_AMOUNT = 9 * 10**12
COUNT_FIELDS = ("impressions", "clicks", "conversions")
MONEY_FIELDS = ("spend", "revenue")


NUL_PROBLEM = "contains a NUL character (code 0), which no text may hold; remove it"


def text_problem(value: str, limit: int) -> str | None:
    """Why ``value`` cannot be stored: too long, or holding a NUL character (which
    PostgreSQL refuses in text); None when it can."""
    if len(value) > limit:
        return f"is {len(value):,} characters long; at most {limit:,} are accepted"
    if "\x00" in value:
        return NUL_PROBLEM
    return None


def count_problem(value: Any, limit: int = MAX_COUNT) -> str | None:
    """Why ``value`` is not a count the registry stores (None when it is)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number, 0 or more"
    if value < 0:
        return "must be a whole number, 0 or more"
    if value > limit:
        return f"{value:,} is more than the largest accepted ({limit:,}); check the column"
    return None


def amount_problem(value: Any, limit: int = MAX_AMOUNT) -> str | None:
    """Why ``value`` is not an amount of money the registry stores (None when it is)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be an amount, 0 or more"
    if not math.isfinite(value):
        return f"{value} is not a finite amount"
    if value < 0:
        return "must be an amount, 0 or more"
    if value > limit:
        return (
            f"{value:,.2f} is more than the largest accepted ({limit:,}); check the column "
            "and its decimal mark"
        )
    return None


def number_problems(values: Mapping[str, Any]) -> list[Problem]:
    """The count and money fields among ``values`` (by name) that are out of bounds."""
    out = []
    for name, value in values.items():
        if name in COUNT_FIELDS:
            why = count_problem(value)
        elif name in MONEY_FIELDS:
            why = amount_problem(value)
        else:
            continue
        if why:
            out.append(Problem(name, why))
    return out


def user_name_problems(name: Any, where: str = "user") -> list[Problem]:
    """Checks on the name a write is recorded under."""
    text = " ".join(str(name or "").split())
    if not text:
        return [Problem(where, "is empty: name who is acting")]
    why = text_problem(text, USER_NAME)
    return [Problem(where, why)] if why else []
