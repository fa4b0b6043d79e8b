"""The shop's own orders: reading an orders file and importing it.

One row per order, or per order and touch when more than one arm claims it: order id,
date or time, amount, status (paid, cancelled, refunded, in English or Chinese) and UTM
values or arm columns. Orders are stored as imported; how they are credited to arms, and
how that compares with the channels' reports, is ``trials.domain.attribution``,
``trials.domain.sources`` and ``trials.domain.reconciliation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from trials.domain import (
    OrderRow,
    OrderStatus,
)
from trials.domain.imports import OrdersPlan
from trials.domain.sources import OrdersEffect
from trials.ingest.cells import (
    Cell,
    CellError,
    is_blank,
    parse_amount,
    parse_timestamp,
)
from trials.ingest.columns import ORDER_FIELDS, ColumnMap, find_header, map_columns
from trials.ingest.limits import quote
from trials.ingest.reading import (
    ImportOptions,
    RowContext,
    RowProblem,
    Unreadable,
    body_rows,
    cell_message,
    column_problems,
    digest_of,
    read_fields,
    settle_conventions,
    table_notes,
)
from trials.ingest.tables import ImportLimits, read_table

__all__ = [
    "OrdersPreview",
    "OrdersReading",
    "parse_status",
    "read_orders_file",
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


def parse_status(value) -> OrderStatus:
    text = " ".join(str(value).strip().casefold().replace("_", " ").split())
    for status, words in STATUS_WORDS.items():
        if text in words:
            return status
    raise CellError(
        f"'{quote(value)}' is not an order status the app knows; use paid, cancelled or refunded"
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
    ask_decimal: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class OrdersPreview:
    reading: OrdersReading
    plan: OrdersPlan | None
    # What committing the file does to the conversions and revenue the models read.
    effect: OrdersEffect | None = None

    @property
    def effect_warning(self) -> str:
        """Plain words when the import changes the conversions used a lot, else ''."""
        return self.effect.warning if self.effect is not None else ""

    @property
    def needs_confirmation(self) -> bool:
        """Whether the import needs its own confirmation (``--accept-effect``)."""
        return bool(self.effect_warning)


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
    base = dict(
        file_name=file_name,
        digest=digest_of(data),
        format_label=table.format_label,
        columns=columns,
        header_row=header_row,
    )
    notes = table_notes(table)
    problems = column_problems(file_name, header_row, columns, REQUIRED)
    if problems:
        return OrdersReading(
            **base,
            decimal=".",
            date_order=None,
            orders=(),
            errors=tuple(problems),
            warnings=notes,
            skipped=(),
        )
    # The file's conventions, then every row below the header.
    settled = settle_conventions(table, header_index, columns, ["amount"], "timestamp", options)
    context = RowContext(file_name, columns, options, settled.decimal, settled.date_order)
    body, skipped = body_rows(table, header_index, columns, "timestamp")
    orders, row_errors = _read_orders(body, context)
    return OrdersReading(
        **base,
        decimal=settled.decimal,
        date_order=settled.date_order,
        orders=() if settled.ask_decimal else tuple(orders),
        errors=(
            *settled.errors,
            *_no_touch_errors(file_name, header_row, columns),
            *row_errors,
            *_duplicates(orders, context),
        ),
        warnings=(*notes, *_no_status_warnings(file_name, header_row, columns)),
        skipped=tuple(skipped),
        ask_date_order=settled.ask_date_order,
        ask_decimal=settled.ask_decimal,
    )


# -- steps --------------------------------------------------------------------------------


def _no_status_warnings(file_name: str, header_row: int, columns: ColumnMap) -> list[RowProblem]:
    if "status" in columns.columns:
        return []
    message = (
        "no status column: every order is taken as paid. Include the status to "
        "leave out cancelled and refunded orders."
    )
    return [RowProblem(file_name, header_row, "", message)]


def _no_touch_errors(file_name: str, header_row: int, columns: ColumnMap) -> list[RowProblem]:
    touches = ("utm_source", "utm_content", "channel", "creative")
    if any(f in columns.columns for f in touches):
        return []
    message = (
        "no UTM or arm columns: orders cannot be matched to arms. Include "
        "utm_source and utm_content (or channel and creative)."
    )
    return [RowProblem(file_name, header_row, "", message)]


def _read_orders(
    body: Sequence[tuple[tuple[Cell, ...], int]], context: RowContext
) -> tuple[list[OrderRow], list[RowProblem]]:
    """The orders that read cleanly, and the problems of the rows that do not."""
    orders: list[OrderRow] = []
    errors: list[RowProblem] = []
    for cells, number in body:
        values, row_errors = read_fields(_FIELDS, cells, number, context)
        errors.extend(row_errors)
        if row_errors:
            continue
        orders.append(
            OrderRow(
                order_id=values["order_id"],
                ordered_at=values["timestamp"],
                amount=values["amount"],
                status=values["status"],
                utm_source=_text(cells, "utm_source", context),
                utm_medium=_text(cells, "utm_medium", context),
                utm_campaign=_text(cells, "utm_campaign", context),
                utm_content=_text(cells, "utm_content", context),
                channel=_text(cells, "channel", context),
                creative=_text(cells, "creative", context),
                row=number,
            )
        )
    return orders, errors


def _duplicates(orders: Sequence[OrderRow], context: RowContext) -> list[RowProblem]:
    """An error for each order seen before from the same source (touch)."""
    errors: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for o in orders:
        first = seen.setdefault((o.order_id, o.touch), o.row)
        if first != o.row:
            errors.append(
                context.problem(
                    o.row,
                    "order_id",
                    f"order {quote(o.order_id)} is also on row {first} with the same source; "
                    "each order may appear once per source",
                )
            )
    return errors


# -- one cell of a row, per field ---------------------------------------------------------


def _text(cells: Sequence[Cell], name: str, context: RowContext) -> str:
    """A text cell, '' when blank or when the file has no such column."""
    index = context.columns.columns.get(name)
    value = cells[index] if index is not None else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # order ids read from a sheet as 1001.0
    return "" if is_blank(value) else str(value).strip()


def _read_order_id(name: str, cells: Sequence[Cell], context: RowContext) -> str:
    order_id = _text(cells, name, context)
    if not order_id:
        raise Unreadable("the order id is blank")
    return order_id


def _read_timestamp(name: str, cells: Sequence[Cell], context: RowContext) -> datetime:
    try:
        return parse_timestamp(
            context.cell(cells, name), context.date_order, context.options.date_format
        )
    except CellError as e:
        raise Unreadable(cell_message(e, "date")) from None


def _read_amount(name: str, cells: Sequence[Cell], context: RowContext) -> float:
    try:
        amount = parse_amount(context.cell(cells, name), context.decimal)
    except CellError as e:
        raise Unreadable(cell_message(e, "amount")) from None
    if amount < 0:
        raise Unreadable("is negative; record refunds with the status, not a minus")
    return amount


def _read_status(name: str, cells: Sequence[Cell], context: RowContext) -> OrderStatus:
    """The order's status; paid when the file has no status column."""
    if name not in context.columns.columns:
        return OrderStatus.PAID
    try:
        return parse_status(_text(cells, name, context))
    except CellError as e:
        raise Unreadable(str(e)) from None


# Each field of a row that can be wrong and how its cell is read, in the order problems
# are listed.
_FIELDS = {
    "order_id": _read_order_id,
    "timestamp": _read_timestamp,
    "amount": _read_amount,
    "status": _read_status,
}
