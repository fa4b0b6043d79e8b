"""Stored rows and the domain's values, both ways: trials, arms, daily results, orders,
import batches; money as integer micro-units; times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.engine import Row

from trials.domain import (
    Arm,
    ArmSpec,
    AttributionRule,
    DailyResult,
    DecisionRule,
    OrderRow,
    OrderStatus,
    PrimaryMetric,
    ResultRow,
    ResultsChoice,
    ResultSource,
    Trial,
    TrialSpec,
    TrialStatus,
)
from trials.domain.imports import ImportBatch
from trials.storage import schema as t

__all__ = [
    "arm_values",
    "aware",
    "batch_from_row",
    "daily_from_row",
    "from_micros",
    "order_from_row",
    "order_values",
    "result_row_values",
    "result_values",
    "same_order",
    "same_result",
    "to_micros",
    "trial_from_rows",
    "trial_values",
    "utc_now",
]


def utc_now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def to_micros(amount: float) -> int:
    return round(amount * t.MICROS)


def from_micros(micros: int | Decimal | None) -> float:
    # Rounding to 6 places gives back exactly the decimal that was stored.
    # PostgreSQL sums BIGINT into NUMERIC (Decimal); bring it back to int first.
    return round(int(micros or 0) / t.MICROS, 6)


def trial_values(spec: TrialSpec) -> dict:
    return {
        "name": spec.name,
        "hypothesis": spec.hypothesis,
        "primary_metric": spec.primary_metric.value,
        "break_even_roas": spec.break_even_roas,
        "gross_margin": spec.gross_margin,
        "currency": spec.currency,
        "start_date": spec.start,
        "end_date": spec.end,
        "budget_micros": to_micros(spec.budget),
        "status": spec.status.value,
        "decision_rule": spec.decision_rule.as_dict(),
        "is_demo": spec.is_demo,
        "attribution_rule": spec.attribution_rule.value,
        "results_source": spec.results_source.value,
    }


def arm_values(trial_id: int, position: int, arm: ArmSpec) -> dict:
    return {
        "trial_id": trial_id,
        "position": position,
        "channel": arm.channel,
        "creative": arm.creative,
        "budget_share": arm.budget_share,
        "is_control": arm.control,
    }


def result_values(trial_id: int, batch_id: int, r: DailyResult) -> dict:
    return {
        "trial_id": trial_id,
        "arm_id": r.arm_id,
        "day": r.day,
        "source": ResultSource(r.source).value,
        "impressions": r.impressions,
        "clicks": r.clicks,
        "conversions": r.conversions,
        "spend_micros": to_micros(r.spend),
        "revenue_micros": to_micros(r.revenue),
        "import_batch_id": batch_id,
    }


def trial_from_rows(row: Row, arm_rows: list[Row], rule_version: int = 1) -> Trial:
    arms = tuple(
        Arm(
            id=a.id,
            spec=ArmSpec(
                channel=a.channel,
                creative=a.creative,
                budget_share=a.budget_share,
                control=bool(a.is_control),
            ),
        )
        for a in arm_rows
    )
    spec = TrialSpec(
        name=row.name,
        hypothesis=row.hypothesis,
        primary_metric=PrimaryMetric(row.primary_metric),
        break_even_roas=row.break_even_roas,
        gross_margin=row.gross_margin,
        currency=row.currency,
        start=row.start_date,
        end=row.end_date,
        budget=from_micros(row.budget_micros),
        arms=tuple(a.spec for a in arms),
        status=TrialStatus(row.status),
        decision_rule=DecisionRule.from_dict(row.decision_rule),
        is_demo=bool(row.is_demo),
        attribution_rule=AttributionRule(row.attribution_rule),
        results_source=ResultsChoice(row.results_source),
    )
    return Trial(
        id=row.id,
        spec=spec,
        arms=arms,
        created_at=aware(row.created_at),
        created_by=row.created_by,
        updated_at=aware(row.updated_at),
        updated_by=row.updated_by,
        rule_version=rule_version,
    )


def batch_from_row(row: Row) -> ImportBatch:
    """An import batch from its stored row."""
    return ImportBatch(
        id=row.id,
        trial_id=row.trial_id,
        kind=row.kind,
        file_name=row.file_name,
        digest=row.digest,
        row_count=row.row_count,
        status=row.status,
        created_at=aware(row.created_at),
        created_by=row.created_by,
        undone_at=aware(row.undone_at) if row.undone_at else None,
        undone_by=row.undone_by,
        details=row.details,
    )


def same_result(old: Row, new: ResultRow) -> bool:
    return (
        old.impressions == new.impressions
        and old.clicks == new.clicks
        and old.conversions == new.conversions
        and old.spend_micros == to_micros(new.spend)
        and old.revenue_micros == to_micros(new.revenue)
    )


def daily_from_row(row: Row) -> DailyResult:
    return DailyResult(
        arm_id=row.arm_id,
        day=row.day,
        impressions=int(row.impressions),
        clicks=int(row.clicks),
        conversions=int(row.conversions),
        spend=int(row.spend_micros) / t.MICROS,
        revenue=int(row.revenue_micros) / t.MICROS,
        source=ResultSource(row.source),
        import_batch_id=row.import_batch_id,
    )


def result_row_values(trial_id, arm_id, batch_id, r: ResultRow, source) -> dict:
    return {
        "trial_id": trial_id,
        "arm_id": arm_id,
        "day": r.day,
        "source": ResultSource(source).value,
        "impressions": r.impressions,
        "clicks": r.clicks,
        "conversions": r.conversions,
        "spend_micros": to_micros(r.spend),
        "revenue_micros": to_micros(r.revenue),
        "import_batch_id": batch_id,
    }


def order_from_row(row: Row) -> OrderRow:
    return OrderRow(
        order_id=row.order_id,
        ordered_at=row.ordered_at,
        amount=int(row.amount_micros) / t.MICROS,
        status=OrderStatus(row.status),
        utm_source=row.utm_source,
        utm_medium=row.utm_medium,
        utm_campaign=row.utm_campaign,
        utm_content=row.utm_content,
        channel=row.channel,
        creative=row.creative,
        row=row.row_number,
        import_batch_id=row.import_batch_id,
    )


def same_order(old: OrderRow, new: OrderRow) -> bool:
    return (
        old.ordered_at == new.ordered_at.replace(microsecond=0)
        and to_micros(old.amount) == to_micros(new.amount)
        and old.status == new.status
        and old.utm == new.utm
        and (old.channel, old.creative) == (new.channel, new.creative)
    )


def order_values(trial_id: int, batch_id: int, o: OrderRow) -> dict:
    return {
        "trial_id": trial_id,
        "order_id": o.order_id,
        "touch": o.touch,
        "ordered_at": o.ordered_at.replace(microsecond=0, tzinfo=None),
        "amount_micros": to_micros(o.amount),
        "status": o.status.value,
        "utm_source": o.utm_source,
        "utm_medium": o.utm_medium,
        "utm_campaign": o.utm_campaign,
        "utm_content": o.utm_content,
        "channel": o.channel,
        "creative": o.creative,
        "row_number": o.row,
        "import_batch_id": batch_id,
    }
