"""The shop's own orders: reading an orders file and importing it.

One row per order, or per order and touch when more than one arm claims it: order id,
date or time, amount, status (paid, cancelled, refunded, in English or Chinese) and UTM
values or arm columns. Orders are stored as imported; how they are credited to arms, and
how that compares with the channels' reports, is ``trials.domain.attribution``.
"""

from __future__ import annotations

from dataclasses import dataclass

from trials.domain import (
    OrderRow,
    OrderStatus,
)
from trials.domain.imports import OrdersPlan
from trials.domain.sources import OrdersEffect
from trials.ingest.cells import (
    CellError,
    is_blank,
    parse_amount,
    parse_timestamp,
)
from trials.ingest.columns import ORDER_FIELDS, ColumnMap, find_header, is_total_row, map_columns
from trials.ingest.daily import (
    ImportOptions,
    RowProblem,
    column_cells,
    digest_of,
    missing_columns,
    settle_date_order,
    settle_decimal,
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
