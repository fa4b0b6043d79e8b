"""The shop's own orders, one row per touch (the UTM values or arm an order came with)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

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
    def utm(self) -> tuple[str, str, str, str]:
        return (self.utm_source, self.utm_medium, self.utm_campaign, self.utm_content)
