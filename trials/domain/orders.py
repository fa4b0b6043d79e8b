"""The shop's own orders, one row per touch (the UTM values or arm an order came with)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from trials.domain import limits
from trials.domain.errors import Problem
from trials.domain.validation import clean_text

__all__ = ["TOUCH_FIELDS", "OrderRow", "OrderStatus"]

TOUCH_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "channel", "creative")


class OrderStatus(StrEnum):
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class OrderRow:
    """One of the shop's own orders, as one touch: the UTM values (or arm) it came with.

    An order claimed by two arms arrives as two rows with the same ``order_id``.
    """

    order_id: str
    ordered_at: datetime
    amount: float
    status: OrderStatus
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_content: str = ""
    channel: str = ""
    creative: str = ""
    row: int = 0
    import_batch_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", OrderStatus(self.status))
        for name in ("order_id", *TOUCH_FIELDS):
            object.__setattr__(self, name, clean_text(getattr(self, name)))

    @property
    def touch(self) -> str:
        """What tells two touches of one order apart (case and spacing ignored)."""
        return "\x1f".join(getattr(self, f).casefold() for f in TOUCH_FIELDS)

    @property
    def touch_key(self) -> str:
        """The touch as a fixed-length key (SHA-256, hex), as the store indexes it: the
        six values together may be longer than an index entry can hold."""
        return hashlib.sha256(self.touch.encode("utf-8")).hexdigest()

    def problems(self) -> list[Problem]:
        """What keeps this order from being stored, each tied to its field."""
        out = []
        if not self.order_id:
            out.append(Problem("order_id", "the order id is blank"))
        else:
            why = limits.text_problem(self.order_id, limits.ORDER_ID)
            if why:
                out.append(
                    Problem(
                        "order_id",
                        f"the order id {why}; check that this column holds order ids",
                    )
                )
        why = limits.amount_problem(self.amount)
        if why:
            out.append(Problem("amount", why))
        for name in TOUCH_FIELDS:
            limit = limits.UTM_VALUE if name.startswith("utm_") else limits.ORDER_ARM_TEXT
            why = limits.text_problem(getattr(self, name), limit)
            if why:
                out.append(Problem(name, why))
        return out

    @property
    def utm(self) -> tuple[str, str, str, str]:
        return (self.utm_source, self.utm_medium, self.utm_campaign, self.utm_content)
