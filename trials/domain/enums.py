"""The settings a trial picks from a short list, and where a day's numbers came from."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AttributionRule", "PrimaryMetric", "ResultSource", "ResultsChoice", "TrialStatus"]


class PrimaryMetric(StrEnum):
    """What the trial is decided on."""

    CONVERSION_RATE = "conversion_rate"  # conversions per click
    ROAS = "roas"  # revenue per unit of spend
    CPA = "cpa"  # spend per conversion

    @property
    def label(self) -> str:
        return {
            PrimaryMetric.CONVERSION_RATE: "Conversion rate (conversions per click)",
            PrimaryMetric.ROAS: "ROAS (revenue per unit of spend)",
            PrimaryMetric.CPA: "CPA (spend per conversion)",
        }[self]


class TrialStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    DECIDED = "decided"
    ARCHIVED = "archived"


class AttributionRule(StrEnum):
    """How an own order that more than one arm claims is credited (counted once either way)."""

    LAST_TOUCH = "last_touch"  # the touch with the latest timestamp takes the order
    SPLIT = "split"  # each claiming arm gets an equal share

    @property
    def label(self) -> str:
        return {
            AttributionRule.LAST_TOUCH: "Last touch (the latest click before the order)",
            AttributionRule.SPLIT: "Split evenly between the arms that claim it",
        }[self]


class ResultsChoice(StrEnum):
    """Whose conversions and revenue the models read."""

    AUTO = "auto"  # own orders once they give a conversion within the trial's dates
    CHANNEL = "channel"
    ORDERS = "orders"

    @property
    def label(self) -> str:
        return {
            ResultsChoice.AUTO: "Own orders once any are within the trial's dates, else "
            "channel reports",
            ResultsChoice.CHANNEL: "Channel reports",
            ResultsChoice.ORDERS: "Own orders",
        }[self]


class ResultSource(StrEnum):
    """Where a day's numbers came from: the ad platform's report, or the shop's own orders."""

    CHANNEL = "channel"
    ORDERS = "orders"
