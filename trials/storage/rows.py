"""Stored rows and the domain's values, both ways: trials, arms, daily results, orders,
import batches; money as integer micro-units; times in UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
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
    Problem,
    ResultRow,
    ResultsChoice,
    ResultSource,
    Trial,
    TrialSpec,
    TrialStatus,
    UserError,
    limits,
)
from trials.domain.imports import ImportBatch
from trials.domain.rounds import Round
from trials.storage import schema as t

__all__ = [
    "arm_values",
    "aware",
    "batch_from_row",
    "daily_from_row",
    "from_micros",
    "order_from_row",
    "order_values",
    "refuse_file_name",
    "refuse_orders_out_of_bounds",
    "refuse_rows_out_of_bounds",
    "refuse_totals_over_limits",
    "result_row_values",
    "result_values",
    "same_order",
    "same_result",
    "to_micros",
    "trial_from_rows",
    "trial_values",
    "utc_now",
]


def _first_problems(where: list[tuple[str, Problem]], what: str) -> None:
    """UserError listing up to five (row, problem) pairs, when there are any."""
    if not where:
        return
    listed = "; ".join(f"{row}, {p.field}: {p.message}" for row, p in where[:5])
    more = f" (and {len(where) - 5} more)" if len(where) > 5 else ""
    raise UserError(f"{len(where)} {what} cannot be stored: {listed}{more}; nothing was written")


def _row_label(number: int, index: int) -> str:
    return f"row {number}" if number else f"entry {index + 1}"


def refuse_rows_out_of_bounds(rows) -> None:
    """UserError when a result row (ResultRow or DailyResult) breaks the domain's limits."""
    found = []
    for index, r in enumerate(rows):
        problems = (
            r.problems()
            if isinstance(r, ResultRow)
            else limits.number_problems(
                {n: getattr(r, n) for n in (*limits.COUNT_FIELDS, *limits.MONEY_FIELDS)}
            )
        )
        found.extend((_row_label(getattr(r, "row", 0), index), p) for p in problems)
    _first_problems(found, "rows")


def refuse_orders_out_of_bounds(orders) -> None:
    found = []
    for index, o in enumerate(orders):
        found.extend((_row_label(o.row, index), p) for p in o.problems())
    _first_problems(found, "orders")


def refuse_file_name(file_name: str | None) -> None:
    why = limits.text_problem(file_name or "", limits.FILE_NAME)
    if why:
        raise UserError(
            f"the file name {why}; rename the file and import it again; nothing was written"
        )


_TOTALLED = {
    "impressions": "impressions",
    "clicks": "clicks",
    "conversions": "conversions",
    "spend_micros": "spend",
    "revenue_micros": "revenue",
}


def refuse_totals_over_limits(conn, trial_id: int, source, added: list, removed: list) -> None:
    """UserError when the trial's totals for ``source`` would pass the domain's limits
    once ``removed`` rows go and ``added`` ones come (each a dict of stored values); the
    database sums them, and a 64-bit sum must not overflow."""
    r = t.daily_results.c
    stored = conn.execute(
        select(*(func.coalesce(func.sum(r[c]), 0) for c in _TOTALLED)).where(
            r.trial_id == trial_id, r.source == ResultSource(source).value
        )
    ).one()
    for (column, name), total in zip(_TOTALLED.items(), stored, strict=True):
        total = int(total) + sum(v[column] for v in added) - sum(v[column] for v in removed)
        money = column.endswith("_micros")
        limit = limits.MAX_TOTAL_AMOUNT * t.MICROS if money else limits.MAX_TOTAL_COUNT
        if total > limit:
            shown = f"{total / t.MICROS:,.2f}" if money else f"{total:,}"
            largest = limits.MAX_TOTAL_AMOUNT if money else limits.MAX_TOTAL_COUNT
            raise UserError(
                f"this would bring the trial's total {name} to {shown}, more than the "
                f"largest total a trial holds ({largest:,}); check the {name} column and "
                "its decimal mark; nothing was written"
            )


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
        "segment": " ".join(r.segment.split()),
        "import_batch_id": batch_id,
    }


def trial_from_rows(
    row: Row, arm_rows: list[Row], rule_version: int = 1, round_rows: Sequence[Row] = ()
) -> Trial:
    """A stored trial; with rounds, its arms and spec are the current round's and
    ``all_arms`` every arm (see ``trials.domain.trial.Trial``)."""
    every = tuple(
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
    arms = tuple(arm for arm, a in zip(every, arm_rows, strict=True) if a.last_round is None)
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
    rounds = _rounds(spec, arm_rows, round_rows)
    return Trial(
        id=row.id,
        spec=spec,
        arms=arms,
        created_at=aware(row.created_at),
        created_by=row.created_by,
        updated_at=aware(row.updated_at),
        updated_by=row.updated_by,
        rule_version=rule_version,
        rounds=rounds,
        all_arms=every,
    )


def _rounds(spec: TrialSpec, arm_rows: Sequence[Row], round_rows: Sequence[Row]) -> tuple:
    """The stored rounds, the last (current) one with the trial's own dates, budget and
    rule; each round's arms from the arms' first and last rounds."""
    if not round_rows:
        return ()
    ordered = sorted(round_rows, key=lambda r: r.number)
    current = ordered[-1].number
    out = []
    for r in ordered:
        ids = tuple(
            a.id
            for a in arm_rows
            if a.first_round <= r.number and (a.last_round is None or a.last_round >= r.number)
        )
        kept = {a.id for a in arm_rows if a.first_round < r.number and a.id in ids}
        replaced = tuple((int(old), int(new)) for old, new in (r.replaced or []))
        is_current = r.number == current
        out.append(
            Round(
                number=r.number,
                start=spec.start if is_current else r.start_date,
                end=spec.end if is_current else r.end_date,
                budget=spec.budget if is_current else from_micros(r.budget_micros),
                decision_rule=spec.decision_rule
                if is_current
                else DecisionRule.from_dict(r.decision_rule),
                arm_ids=ids,
                reason=r.reason,
                replaced=replaced,
                added=tuple(
                    i
                    for i in ids
                    if i not in kept and r.number > 1 and i not in {n for _, n in replaced}
                ),
                dropped=tuple(
                    a.id
                    for a in arm_rows
                    if a.last_round == r.number - 1 and a.id not in {o for o, _ in replaced}
                ),
                carry_prior=bool(r.carry_prior),
                created_at=aware(r.created_at),
                created_by=r.created_by,
            )
        )
    return tuple(out)


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
        segment=row.segment,
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
        "segment": " ".join(r.segment.split()),
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
        "touch": o.touch_key,
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
