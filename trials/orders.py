"""The shop's own orders: import, attribution to arms, and reconciliation with channels.

Own orders are the source of truth for conversions and revenue. Channels over-count:
two channels claim one order, and their reports keep orders that were later cancelled or
refunded. Here:

* an order is counted only when its status is paid (the most final status among its rows
  wins: refunded over cancelled over paid);
* each order touch is sent to an arm by its arm columns, else the trial's saved UTM rules
  (most specific first), else by its ``utm_source`` naming the arm's channel and its
  ``utm_content`` naming the creative;
* an order claimed by several arms is counted once, by the trial's rule: ``last_touch``
  (the arm of the latest touch; a tie splits between the tied arms) or ``split`` (equal
  shares), and it is listed;
* per day, fractional credits are rounded to whole conversions by largest remainder, so
  each day's conversions equal its distinct orders; revenue is split exactly.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from trials.cells import (
    CellError,
    is_blank,
    parse_amount,
    parse_timestamp,
)
from trials.columns import ORDER_FIELDS, ColumnMap, find_header, is_total_row, map_columns
from trials.domain import (
    ArmTotals,
    AttributionRule,
    DailyResult,
    OrderRow,
    OrderStatus,
    ResultsChoice,
    ResultSource,
    Trial,
    UserError,
    arm_key,
)
from trials.imports import (
    ImportOptions,
    RowProblem,
    column_cells,
    digest_of,
    missing_columns,
    settle_date_order,
    settle_decimal,
)
from trials.store_imports import OrdersPlan, UtmRule
from trials.tables import ImportLimits, read_table

__all__ = [
    "Attribution",
    "OrdersPreview",
    "OrdersReading",
    "Reconciliation",
    "attribute",
    "commit_orders",
    "order_results",
    "order_totals",
    "preview_orders",
    "read_orders_file",
    "reconcile",
    "source_in_use",
]

REQUIRED = ("order_id", "timestamp", "amount")
STATUS_WORDS = {
    OrderStatus.PAID: (
        "paid",
        "complete",
        "completed",
        "success",
        "succeeded",
        "fulfilled",
        "shipped",
        "delivered",
        "已支付",
        "已付款",
        "已完成",
        "交易成功",
        "已发货",
        "已收货",
    ),
    OrderStatus.CANCELLED: (
        "cancelled",
        "canceled",
        "void",
        "voided",
        "failed",
        "closed",
        "已取消",
        "取消",
        "交易关闭",
        "已关闭",
    ),
    OrderStatus.REFUNDED: (
        "refunded",
        "refund",
        "returned",
        "partially refunded",
        "已退款",
        "退款",
        "退款成功",
        "已退货",
    ),
}
_FINALITY = {OrderStatus.PAID: 0, OrderStatus.CANCELLED: 1, OrderStatus.REFUNDED: 2}


def parse_status(value) -> OrderStatus:
    text = " ".join(str(value).strip().casefold().replace("_", " ").split())
    for status, words in STATUS_WORDS.items():
        if text in words:
            return status
    raise CellError(
        f"'{value}' is not an order status the app knows; use paid, cancelled or refunded"
    )


# -- reading a file ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrdersReading:
    file_name: str
    digest: str
    format_label: str
    columns: ColumnMap
    header_row: int
    decimal: str
    date_order: str | None
    orders: tuple[OrderRow, ...]
    errors: tuple[RowProblem, ...]
    warnings: tuple[RowProblem, ...]
    skipped: tuple[tuple[int, str], ...]
    ask_date_order: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class OrdersPreview:
    reading: OrdersReading
    plan: OrdersPlan | None

    def as_dict(self) -> dict[str, Any]:
        r = self.reading
        out: dict[str, Any] = {
            "file": r.file_name,
            "digest": r.digest,
            "format": r.format_label,
            "header_row": r.header_row,
            "mapping": r.columns.as_dict(),
            "orders": len(r.orders),
            "skipped": [{"row": n, "reason": why} for n, why in r.skipped],
            "errors": [{"row": p.row, "column": p.column, "message": p.message} for p in r.errors],
            "warnings": [
                {"row": p.row, "column": p.column, "message": p.message} for p in r.warnings
            ],
        }
        if self.plan is not None:
            out["changes"] = self.plan.counts()
            out["changed_orders"] = [
                {
                    "order_id": c.order.order_id,
                    "row": c.order.row,
                    "before": {"status": c.old.status.value, "amount": c.old.amount},
                    "after": {"status": c.order.status.value, "amount": c.order.amount},
                }
                for c in self.plan.of("changed")
            ]
        return out


def read_orders_file(
    data: bytes,
    file_name: str,
    options: ImportOptions | None = None,
    limits: ImportLimits | None = None,
) -> OrdersReading:
    """Read and check an orders file: one row per order (or per order and touch)."""
    options = options or ImportOptions()
    table = read_table(data, file_name, limits)
    header_index = find_header(table.rows, ORDER_FIELDS)
    columns = map_columns(table.rows[header_index], ORDER_FIELDS, None, dict(options.mapping))
    header_row = table.numbers[header_index]
    body = table.rows[header_index + 1 :]
    numbers = table.numbers[header_index + 1 :]
    base = dict(
        file_name=file_name,
        digest=digest_of(data),
        format_label=table.format_label,
        columns=columns,
        header_row=header_row,
    )
    missing = columns.missing(REQUIRED)
    if missing:
        error = missing_columns(file_name, header_row, columns, missing)
        return OrdersReading(
            **base,
            decimal=".",
            date_order=None,
            orders=(),
            errors=(error,),
            warnings=(),
            skipped=(),
        )
    decimal, _, decimal_error = settle_decimal(
        table, column_cells(body, columns, ["amount"]), options
    )
    order, order_error, ask = settle_date_order(column_cells(body, columns, ["timestamp"]), options)
    errors: list[RowProblem] = [
        RowProblem(file_name, 0, "", m) for m in (decimal_error, order_error) if m
    ]
    warnings: list[RowProblem] = []
    if "status" not in columns.columns:
        warnings.append(
            RowProblem(
                file_name,
                header_row,
                "",
                "no status column: every order is taken as paid. Include the status to "
                "leave out cancelled and refunded orders.",
            )
        )
    has_touch = any(
        f in columns.columns for f in ("utm_source", "utm_content", "channel", "creative")
    )
    if not has_touch:
        errors.append(
            RowProblem(
                file_name,
                header_row,
                "",
                "no UTM or arm columns: orders cannot be matched to arms. Include "
                "utm_source and utm_content (or channel and creative).",
            )
        )
    orders: list[OrderRow] = []
    skipped: list[tuple[int, str]] = []
    width = len(columns.headers)
    for cells, number in zip(body, numbers, strict=True):
        cells = tuple(cells) + (None,) * (width - len(cells))
        if is_total_row(cells, columns.columns.get("timestamp")):
            skipped.append((number, "a total or summary row"))
            continue
        row_errors: list[RowProblem] = []

        def problem(name: str, message: str, _errors=row_errors, _n=number) -> None:
            _errors.append(RowProblem(file_name, _n, columns.header(name), message))

        def text(name: str, _cells=cells) -> str:
            index = columns.columns.get(name)
            value = _cells[index] if index is not None else None
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # order ids read from a sheet as 1001.0
            return "" if is_blank(value) else str(value).strip()

        order_id = text("order_id")
        if not order_id:
            problem("order_id", "the order id is blank")
        try:
            ordered_at = parse_timestamp(
                cells[columns.columns["timestamp"]], order, options.date_format
            )
        except CellError as e:
            problem("timestamp", str(e) if not str(e).startswith("is") else f"the date {e}")
            ordered_at = None
        try:
            amount = parse_amount(cells[columns.columns["amount"]], decimal)
            if amount < 0:
                problem("amount", "is negative; record refunds with the status, not a minus")
        except CellError as e:
            problem("amount", str(e) if not str(e).startswith("is") else f"the amount {e}")
            amount = None
        status = OrderStatus.PAID
        if "status" in columns.columns:
            try:
                status = parse_status(text("status"))
            except CellError as e:
                problem("status", str(e))
        errors.extend(row_errors)
        if row_errors:
            continue
        orders.append(
            OrderRow(
                order_id=order_id,
                ordered_at=ordered_at,
                amount=amount,
                status=status,
                utm_source=text("utm_source"),
                utm_medium=text("utm_medium"),
                utm_campaign=text("utm_campaign"),
                utm_content=text("utm_content"),
                channel=text("channel"),
                creative=text("creative"),
                row=number,
            )
        )
    seen: dict[tuple[str, str], int] = {}
    for o in orders:
        first = seen.setdefault((o.order_id, o.touch), o.row)
        if first != o.row:
            errors.append(
                RowProblem(
                    file_name,
                    o.row,
                    columns.header("order_id"),
                    f"order {o.order_id} is also on row {first} with the same source; "
                    "each order may appear once per source",
                )
            )
    return OrdersReading(
        **base,
        decimal=decimal,
        date_order=order,
        orders=tuple(orders),
        errors=tuple(errors),
        warnings=tuple(warnings),
        skipped=tuple(skipped),
        ask_date_order=ask,
    )


def preview_orders(
    store,
    trial: Trial,
    data: bytes,
    file_name: str,
    options: ImportOptions | None = None,
    limits: ImportLimits | None = None,
) -> OrdersPreview:
    reading = read_orders_file(data, file_name, options, limits)
    if not reading.ok:
        return OrdersPreview(reading, None)
    outside = [
        o for o in reading.orders if not trial.spec.start <= o.ordered_at.date() <= trial.spec.end
    ]
    if outside:
        reading = replace(
            reading,
            warnings=(
                *reading.warnings,
                RowProblem(
                    reading.file_name,
                    outside[0].row,
                    reading.columns.header("timestamp"),
                    f"{len(outside)} orders fall outside the trial's dates ({trial.spec.start} "
                    f"to {trial.spec.end}); they are stored but not counted",
                ),
            ),
        )
    try:
        plan = store.plan_orders(trial.id, reading.orders, digest=reading.digest)
    except UserError as e:
        problem = RowProblem(reading.file_name, 0, "", str(e))
        return OrdersPreview(replace(reading, errors=(*reading.errors, problem)), None)
    return OrdersPreview(reading, plan)


def commit_orders(store, trial: Trial, preview: OrdersPreview, *, replace: bool = False):
    reading = preview.reading
    if not reading.ok:
        raise UserError(
            f"{reading.file_name} has {len(reading.errors)} problems; nothing was written"
        )
    return store.commit_orders(
        trial.id,
        reading.orders,
        file_name=reading.file_name,
        digest=reading.digest,
        replace=replace,
    )


# -- attribution ---------------------------------------------------------------------------


def _slug(text: str) -> str:
    """'Video A', 'video-a' and 'video_a' are one name."""
    return re.sub(r"[\W_]+", "", text.casefold())


def resolve_arm(order: OrderRow, trial: Trial, rules: Sequence[UtmRule]) -> int | None:
    """The arm an order touch belongs to, or None."""
    if order.channel and order.creative:
        key = arm_key(order.channel, order.creative)
        for arm in trial.arms:
            if arm_key(arm.spec.channel, arm.spec.creative) == key:
                return arm.id
    matching = [r for r in rules if r.matches(order.utm)]
    if matching:
        return max(matching, key=lambda r: r.specificity).arm_id
    source, content = _slug(order.utm_source), _slug(order.utm_content)
    if source and content:
        for arm in trial.arms:
            if _slug(arm.spec.channel) == source and _slug(arm.spec.creative) == content:
                return arm.id
    return None


@dataclass(frozen=True)
class SharedOrder:
    """An order more than one arm claimed, and how it was credited."""

    order_id: str
    arms: tuple[int, ...]
    credited: tuple[tuple[int, float], ...]  # (arm id, share)


@dataclass(frozen=True)
class Attribution:
    """Own orders credited to arms, with everything left out and why."""

    results: tuple[DailyResult, ...]  # source ORDERS, one per arm and day with orders
    counted: int  # paid orders credited to arms within the trial's dates
    shared: tuple[SharedOrder, ...]
    excluded: dict[str, tuple[int, float]]  # status → (orders, amount)
    unattributed: tuple[tuple[tuple[str, str, str, str], int, float], ...]  # utm, n, amount
    outside_dates: tuple[int, float]

    def totals(self, arm_ids: Sequence[int]) -> dict[int, ArmTotals]:
        out = {}
        for arm_id in arm_ids:
            rows = [r for r in self.results if r.arm_id == arm_id]
            out[arm_id] = ArmTotals(
                conversions=sum(r.conversions for r in rows),
                revenue=round(sum(r.revenue for r in rows), 6),
                days=len(rows),
            )
        return out


def attribute(
    trial: Trial,
    orders: Sequence[OrderRow],
    rules: Sequence[UtmRule],
    rule: AttributionRule | None = None,
) -> Attribution:
    """Credit each paid order once to the arms that claim it (see the module notes)."""
    rule = AttributionRule(rule or trial.spec.attribution_rule)
    by_order: dict[str, list[OrderRow]] = defaultdict(list)
    for o in orders:
        by_order[o.order_id].append(o)
    credits: dict[tuple[int, date], float] = defaultdict(float)
    revenue: dict[tuple[int, date], float] = defaultdict(float)
    excluded: dict[str, list[float]] = {}
    unattributed: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    outside: list[float] = []
    shared: list[SharedOrder] = []
    counted = 0
    for order_id, touches in by_order.items():
        latest = max(touches, key=lambda o: (o.ordered_at, o.row))
        status = max((o.status for o in touches), key=_FINALITY.__getitem__)
        if status != OrderStatus.PAID:
            excluded.setdefault(status.value, []).append(latest.amount)
            continue
        day = latest.ordered_at.date()
        if not trial.spec.start <= day <= trial.spec.end:
            outside.append(latest.amount)
            continue
        arms_of = [(o, resolve_arm(o, trial, rules)) for o in touches]
        claimed = [(o, a) for o, a in arms_of if a is not None]
        if not claimed:
            unattributed[latest.utm].append(latest.amount)
            continue
        arm_ids = tuple(dict.fromkeys(a for _, a in claimed))
        if rule == AttributionRule.SPLIT or len(arm_ids) == 1:
            winners = arm_ids
        else:
            last_time = max(o.ordered_at for o, _ in claimed)
            winners = tuple(dict.fromkeys(a for o, a in claimed if o.ordered_at == last_time))
        share = 1 / len(winners)
        for arm_id in winners:
            credits[arm_id, day] += share
            revenue[arm_id, day] += latest.amount * share
        counted += 1
        if len(arm_ids) > 1:
            shared.append(SharedOrder(order_id, arm_ids, tuple((a, share) for a in winners)))
    return Attribution(
        results=_whole_conversions(credits, revenue),
        counted=counted,
        shared=tuple(shared),
        excluded={k: (len(v), round(sum(v), 6)) for k, v in sorted(excluded.items())},
        unattributed=tuple(
            (utm, len(v), round(sum(v), 6)) for utm, v in sorted(unattributed.items())
        ),
        outside_dates=(len(outside), round(sum(outside), 6)),
    )


def _whole_conversions(credits, revenue) -> tuple[DailyResult, ...]:
    """Round each day's fractional credits to whole orders by largest remainder."""
    by_day: dict[date, dict[int, float]] = defaultdict(dict)
    for (arm_id, day), value in credits.items():
        by_day[day][arm_id] = value
    out = []
    for day in sorted(by_day):
        shares = by_day[day]
        total = round(sum(shares.values()))
        floors = {a: math.floor(v + 1e-9) for a, v in shares.items()}
        left = total - sum(floors.values())
        order = sorted(shares, key=lambda a: (-(shares[a] - floors[a]), a))
        for a in order[:left]:
            floors[a] += 1
        for arm_id in sorted(shares):
            out.append(
                DailyResult(
                    arm_id=arm_id,
                    day=day,
                    impressions=0,
                    clicks=0,
                    conversions=floors[arm_id],
                    spend=0.0,
                    revenue=round(revenue[arm_id, day], 6),
                    source=ResultSource.ORDERS,
                )
            )
    return tuple(out)


def order_results(store, trial: Trial) -> Attribution:
    return attribute(trial, store.orders(trial.id), store.utm_rules(trial.id))


def order_totals(store, trial: Trial) -> dict[int, ArmTotals] | None:
    """Conversions and revenue own orders credit to each arm; None without orders."""
    orders = store.orders(trial.id)
    if not orders:
        return None
    credited = attribute(trial, orders, store.utm_rules(trial.id))
    return credited.totals([a.id for a in trial.arms])


def source_in_use(trial: Trial, has_orders: bool) -> ResultSource:
    """Whose conversions and revenue the models read for this trial now."""
    choice = trial.spec.results_source
    if choice == ResultsChoice.ORDERS or (choice == ResultsChoice.AUTO and has_orders):
        return ResultSource.ORDERS
    return ResultSource.CHANNEL


# -- reconciliation -------------------------------------------------------------------------


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "arm": self.arm,
            "channel_conversions": self.channel_conversions,
            "order_conversions": self.order_conversions,
            "conversions_difference": self.conversions_difference,
            "conversions_difference_pct": self.conversions_difference_pct,
            "channel_revenue": self.channel_revenue,
            "order_revenue": self.order_revenue,
            "revenue_difference": self.revenue_difference,
            "revenue_difference_pct": self.revenue_difference_pct,
        }


@dataclass(frozen=True)
class Reconciliation:
    arms: tuple[ArmReconciliation, ...]
    attribution: Attribution
    source: ResultSource
    has_orders: bool

    def as_dict(self, trial: Trial) -> dict[str, Any]:
        a = self.attribution
        names = {arm.id: arm.name for arm in trial.arms}
        return {
            "trial": trial.name,
            "results_source": trial.spec.results_source.value,
            "source_in_use": self.source.value,
            "attribution_rule": trial.spec.attribution_rule.value,
            "arms": [r.as_dict() for r in self.arms],
            "orders_counted": a.counted,
            "excluded": {k: {"orders": n, "amount": v} for k, (n, v) in a.excluded.items()},
            "shared_orders": [
                {
                    "order_id": s.order_id,
                    "arms": [names.get(i, str(i)) for i in s.arms],
                    "credited": [{"arm": names.get(i, str(i)), "share": w} for i, w in s.credited],
                }
                for s in a.shared
            ],
            "unattributed": [
                {
                    "utm_source": u[0],
                    "utm_medium": u[1],
                    "utm_campaign": u[2],
                    "utm_content": u[3],
                    "orders": n,
                    "amount": v,
                }
                for u, n, v in a.unattributed
            ],
            "outside_dates": {"orders": a.outside_dates[0], "amount": a.outside_dates[1]},
        }


def reconcile(store, trial: Trial) -> Reconciliation:
    """Channel-reported conversions and revenue per arm beside own orders."""
    orders = store.orders(trial.id)
    attribution = attribute(trial, orders, store.utm_rules(trial.id))
    channel = store.arm_totals(trial.id)
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
    return Reconciliation(
        arms=arms,
        attribution=attribution,
        source=source_in_use(trial, bool(orders)),
        has_orders=bool(orders),
    )
