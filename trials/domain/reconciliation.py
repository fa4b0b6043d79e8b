"""Channel-reported conversions and revenue per arm set beside the shop's own orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trials.domain.attribution import Attribution, attribute
from trials.domain.enums import ResultSource
from trials.domain.imports import UtmRule
from trials.domain.orders import OrderRow
from trials.domain.results import ArmTotals
from trials.domain.sources import SourceSummary, summarize_source
from trials.domain.trial import Trial

__all__ = ["ArmReconciliation", "Reconciliation", "reconcile"]


@dataclass(frozen=True)
class ArmReconciliation:
    arm_id: int
    arm: str
    channel_conversions: int
    order_conversions: int
    channel_revenue: float
    order_revenue: float

    @property
    def conversions_difference(self) -> int:
        return self.channel_conversions - self.order_conversions

    @property
    def revenue_difference(self) -> float:
        return round(self.channel_revenue - self.order_revenue, 6)

    @staticmethod
    def _percent(difference: float, base: float) -> float | None:
        return None if base == 0 else difference / base

    @property
    def conversions_difference_pct(self) -> float | None:
        """How much the channel over-reports, as a share of own orders."""
        return self._percent(self.conversions_difference, self.order_conversions)

    @property
    def revenue_difference_pct(self) -> float | None:
        return self._percent(self.revenue_difference, self.order_revenue)


@dataclass(frozen=True)
class Reconciliation:
    arms: tuple[ArmReconciliation, ...]
    attribution: Attribution
    source: ResultSource
    has_orders: bool
    summary: SourceSummary | None = None


def reconcile(
    trial: Trial,
    channel: dict[int, ArmTotals],
    orders: Sequence[OrderRow],
    rules: Sequence[UtmRule],
) -> Reconciliation:
    """Channel-reported conversions and revenue per arm beside own orders."""
    attribution = attribute(trial, orders, rules)
    own = attribution.totals([a.id for a in trial.arms])
    arms = tuple(
        ArmReconciliation(
            arm_id=arm.id,
            arm=arm.name,
            channel_conversions=channel[arm.id].conversions,
            order_conversions=own[arm.id].conversions,
            channel_revenue=channel[arm.id].revenue,
            order_revenue=own[arm.id].revenue,
        )
        for arm in trial.arms
    )
    summary = summarize_source(trial, channel, attribution if orders else None)
    return Reconciliation(
        arms=arms,
        attribution=attribution,
        source=summary.source,
        has_orders=bool(orders),
        summary=summary,
    )
