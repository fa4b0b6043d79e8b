"""Which column of an export holds which field: header detection, presets and mapping.

A mapping sends each field a trial needs (date, channel, creative, impressions, clicks,
conversions, spend, revenue, and optionally a segment) to one column of the file. It is
found automatically from common English and Chinese headers; a named preset knows one
platform's export (its headers, its title lines, which blank cells mean zero);
``overrides`` fix single fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from trials.domain import UserError
from trials.ingest.cells import Cell, is_blank, parse_timestamp
from trials.ingest.limits import quote

__all__ = [
    "DAILY_FIELDS",
    "ORDER_FIELDS",
    "PRESETS",
    "ColumnMap",
    "Preset",
    "ambiguous_columns",
    "find_header",
    "is_total_row",
    "map_columns",
    "normalise_header",
]

DAILY_FIELDS = (
    "date",
    "channel",
    "creative",
    "impressions",
    "clicks",
    "conversions",
    "spend",
    "revenue",
    # Optional: a breakdown of each arm-day (customer group, region, device, placement);
    # with it, rows are keyed by channel, creative, day and segment.
    "segment",
)
ORDER_FIELDS = (
    "order_id",
    "timestamp",
    "amount",
    "status",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "channel",
    "creative",
)

# Headers each field is recognised by, compared after ``normalise_header``.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": ("date", "day", "reporting starts", "report date", "日期", "时间", "天", "统计日期"),
    "channel": (
        "channel",
        "source",
        "platform",
        "network",
        "campaign",
        "campaign name",
        "渠道",
        "平台",
        "来源",
        "投放渠道",
        "推广计划",
        "计划名称",
    ),
    "creative": (
        "creative",
        "ad",
        "ad name",
        "ad group",
        "ad set name",
        "variant",
        "version",
        "content",
        "内容",
        "版本",
        "创意",
        "素材",
        "内容版本",
        "创意名称",
        "广告名称",
    ),
    "impressions": ("impressions", "impr", "views", "曝光量", "曝光", "展现量", "展示量", "展现"),
    "clicks": ("clicks", "link clicks", "clicks all", "点击量", "点击", "点击数", "点击次数"),
    "conversions": (
        "conversions",
        "conv",
        "results",
        "purchases",
        "orders",
        "转化数",
        "转化",
        "转化量",
        "订单数",
        "成交数",
        "成交笔数",
    ),
    "spend": ("spend", "cost", "amount spent", "花费", "消耗", "费用", "成本", "消费"),
    "revenue": (
        "revenue",
        "conv value",
        "all conv value",
        "conversion value",
        "purchases conversion value",
        "website purchases conversion value",
        "sales",
        "收入",
        "销售额",
        "成交金额",
        "转化价值",
        "gmv",
    ),
    "segment": (
        "segment",
        "audience",
        "customer group",
        "region",
        "device",
        "placement",
        "人群",
        "地区",
        "设备",
        "版位",
    ),
    "order_id": ("order id", "order", "order number", "id", "订单号", "订单编号", "订单id"),
    "timestamp": (
        "timestamp",
        "created at",
        "order date",
        "date",
        "time",
        "paid at",
        "下单时间",
        "支付时间",
        "时间",
        "日期",
    ),
    "amount": (
        "amount",
        "total",
        "order total",
        "revenue",
        "value",
        "金额",
        "订单金额",
        "实付金额",
    ),
    "status": ("status", "order status", "state", "状态", "订单状态"),
    "utm_source": ("utm source", "utm_source", "source", "来源"),
    "utm_medium": ("utm medium", "utm_medium", "medium", "媒介"),
    "utm_campaign": ("utm campaign", "utm_campaign", "campaign", "活动"),
    "utm_content": ("utm content", "utm_content", "content", "内容"),
}


# Synonyms of one field that name the same thing: two columns both named by one group
# ("Clicks" and "点击量", or "Clicks" twice) leave the field ambiguous, and the file is
# refused until one is chosen. Names of different things ("Link clicks", "Clicks (all)")
# keep the order above: the first one found is read. A name in no group is its own.
SAME_THING: dict[str, tuple[frozenset[str], ...]] = {
    name: tuple(frozenset(group) for group in groups)
    for name, groups in {
        "date": [("date", "day", "report date", "日期", "天", "统计日期")],
        "channel": [
            ("channel", "渠道", "投放渠道"),
            ("source", "来源"),
            ("platform", "平台"),
            ("campaign", "campaign name", "推广计划", "计划名称"),
        ],
        "creative": [
            ("creative", "创意", "素材", "创意名称"),
            ("ad", "ad name", "广告名称"),
            ("version", "版本"),
            ("content", "内容"),
        ],
        "impressions": [("impressions", "impr", "曝光量", "曝光", "展现量", "展示量", "展现")],
        "clicks": [("clicks", "点击量", "点击", "点击数", "点击次数")],
        "conversions": [
            ("conversions", "conv", "转化数", "转化", "转化量"),
            ("orders", "订单数", "成交数", "成交笔数"),
        ],
        "spend": [("spend", "cost", "amount spent", "花费", "消耗", "费用", "成本", "消费")],
        "revenue": [
            ("revenue", "收入"),
            ("conv value", "conversion value", "转化价值"),
            ("purchases conversion value", "website purchases conversion value"),
            ("sales", "销售额", "成交金额", "gmv"),
        ],
        # Every name of a segment is one group: a file with both a region and a device
        # column is broken down twice, and must say which breakdown is the segment.
        "segment": [SYNONYMS["segment"]],
        "order_id": [("order id", "order number", "订单号", "订单编号", "订单id")],
        "timestamp": [
            ("created at", "order date", "下单时间"),
            ("date", "日期"),
            ("time", "时间"),
            ("paid at", "支付时间"),
        ],
        "amount": [("amount", "金额"), ("total", "order total", "订单金额")],
        "status": [("status", "order status", "状态", "订单状态")],
        "utm_source": [("source", "来源")],
        "utm_medium": [("medium", "媒介")],
        "utm_campaign": [("campaign", "活动")],
        "utm_content": [("content", "内容")],
    }.items()
}


@dataclass(frozen=True)
class Preset:
    """What one platform's export looks like."""

    name: str
    label: str
    headers: Mapping[str, tuple[str, ...]]  # tried before the common synonyms
    blank_is_zero: frozenset[str] = frozenset()  # fields whose blank cells mean 0
    note: str = ""


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "generic",
            "Generic table (any headers, English or Chinese)",
            {},
            note="Every cell must be filled; a blank count is an error.",
        ),
        Preset(
            "google-ads",
            "Google Ads report (Campaign, Ad group, Day, Impr., Clicks, Cost, Conversions)",
            {
                "date": ("day", "date"),
                "channel": ("campaign",),
                "creative": ("ad group", "ad", "ad name"),
                "impressions": ("impr", "impressions"),
                "clicks": ("clicks",),
                "conversions": ("conversions",),
                "spend": ("cost",),
                "revenue": ("conv value", "total conv value", "all conv value"),
            },
            note="Title lines above the header and 'Total:' rows are skipped.",
        ),
        Preset(
            "meta-ads",
            "Meta Ads Manager export (Campaign name, Ad name, Reporting starts, Results…)",
            {
                "date": ("day", "reporting starts"),
                "channel": ("campaign name",),
                "creative": ("ad name", "ad set name"),
                "impressions": ("impressions",),
                "clicks": ("link clicks", "clicks all"),
                "conversions": ("results", "purchases", "website purchases"),
                "spend": ("amount spent",),
                "revenue": ("purchases conversion value", "website purchases conversion value"),
            },
            blank_is_zero=frozenset({"clicks", "conversions", "revenue"}),
            note="Meta leaves a cell blank when there were no results: blank counts read as 0.",
        ),
    )
}

_BRACKETS = re.compile(r"\s*[\(（\[【][^)）\]】]*[\)）\]】]")


def normalise_header(text: Cell) -> str:
    """A header cell compared loosely: "Amount spent (CNY)" → "amount spent", "Impr." →
    "impr", "Conv. value" → "conv value", "点击量（次）" → "点击量"."""
    if is_blank(text):
        return ""
    out = _BRACKETS.sub("", str(text)).casefold()
    out = re.sub(r"[._:/\-]+", " ", out)
    return " ".join(out.split())


@dataclass(frozen=True)
class ColumnMap:
    """Field → column index of the header row, with the header text for messages."""

    columns: Mapping[str, int]
    headers: tuple[str, ...]
    how: Mapping[str, str] = field(default_factory=dict)  # field → "preset", "auto" or "--map"
    # Fields two or more columns could be (their columns); left unmapped until one is chosen.
    ambiguous: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def header(self, name: str) -> str:
        """The field's column header, as a message quotes it (at most 80 characters)."""
        return quote(self.headers[self.columns[name]])

    def missing(self, required: Sequence[str]) -> list[str]:
        """The required fields with no column (an ambiguous field has none yet)."""
        return [f for f in required if f not in self.columns]

    def as_dict(self) -> dict[str, str]:
        return {f: self.headers[i] for f, i in self.columns.items()}


def _match(
    headers: Sequence[str],
    names: Sequence[str],
    taken: set[int],
    same: Sequence[frozenset[str]] = (),
) -> tuple[int, ...]:
    """The free column named by the first of ``names`` found, or every free column named
    by that name's group in ``same`` when there are several (an ambiguous field); () when
    no column has any of the names."""
    for name in names:
        for h in (h for i, h in enumerate(headers) if i not in taken):
            if h == name:
                group = next((g for g in same if name in g), frozenset({name}))
                return tuple(j for j, h in enumerate(headers) if j not in taken and h in group)
    return ()


def map_columns(
    header_row: Sequence[Cell],
    fields: Sequence[str],
    preset: Preset | None = None,
    overrides: Mapping[str, str] | None = None,
) -> ColumnMap:
    """Map ``fields`` to columns of ``header_row``.

    Overrides (field → header text, or a 1-based column number) come first, then the
    preset's headers, then the common synonyms. A column is used for one field only. A
    field that two columns name alike (the same header twice, or two synonyms of the same
    thing, ``SAME_THING``) is left unmapped and listed in ``ambiguous``.
    Raises :class:`UserError` when an override names a field or column that does not exist.
    """
    headers = tuple("" if is_blank(h) else str(h).strip() for h in header_row)
    normal = [normalise_header(h) for h in headers]
    columns: dict[str, int] = {}
    how: dict[str, str] = {}
    ambiguous: dict[str, tuple[int, ...]] = {}
    for name, wanted in (overrides or {}).items():
        if name not in fields:
            raise UserError(f"--map {quote(name)}=…: unknown field; fields are {', '.join(fields)}")
        index = _column_index(wanted, headers, normal)
        if index is None:
            raise UserError(
                f"--map {name}={quote(wanted)}: no such column; the columns are " + listed(headers)
            )
        columns[name] = index
        how[name] = "--map"
    taken = set(columns.values())
    for source, table in (("preset", preset.headers if preset else {}), ("auto", SYNONYMS)):
        same = SAME_THING if source == "auto" else {}
        for name in fields:
            if name in columns or name in ambiguous or name not in table:
                continue
            found = _match(normal, table[name], taken, same.get(name, ()))
            if len(found) == 1:
                columns[name] = found[0]
                how[name] = source
            elif found:
                ambiguous[name] = found
            taken.update(found)
    return ColumnMap(columns=columns, headers=headers, how=how, ambiguous=ambiguous)


def listed(headers: Sequence[str], most: int = 30) -> str:
    """Headers for a message: each quoted (80 characters at most), 30 at most."""
    named = [f"'{quote(h)}'" for h in headers if h]
    more = f" and {len(named) - most:,} more" if len(named) > most else ""
    return ", ".join(named[:most]) + more


def ambiguous_columns(columns: ColumnMap) -> list[str]:
    """A sentence for each field two or more columns could be, naming them all."""
    out = []
    for name, found in columns.ambiguous.items():
        named = " and ".join(f"'{quote(columns.headers[i])}' (column {i + 1})" for i in found)
        out.append(
            f"{len(found)} columns could be the {name}: {named}. Choose one (under Columns "
            f"on the Data page, or --map {name}=COLUMN), or remove the other from the file."
        )
    return out


def _column_index(wanted: str, headers: Sequence[str], normal: Sequence[str]) -> int | None:
    wanted = str(wanted).strip()
    if wanted.isdigit() and 1 <= int(wanted) <= len(headers):
        return int(wanted) - 1
    for i, h in enumerate(headers):
        if h == wanted:
            return i
    target = normalise_header(wanted)
    for i, h in enumerate(normal):
        if h and h == target:
            return i
    return None


def find_header(
    rows: Sequence[Sequence[Cell]], fields: Sequence[str], preset: Preset | None = None
) -> int:
    """Index of the header row: the first of the top 30 rows naming the most fields.

    Title lines above the header (report name, date range, account) name none, so they
    are passed over. Falls back to the first row when no row names two fields.
    """
    best, best_hits = 0, 1
    for i, row in enumerate(rows[:30]):
        mapped = map_columns(row, fields, preset)
        hits = len(mapped.columns) + len(mapped.ambiguous)
        if hits > best_hits:
            best, best_hits = i, hits
    return best


_TOTAL_WORDS = ("total", "totals", "grand total", "summary", "合计", "总计", "汇总", "小计")


def is_total_row(row: Sequence[Cell], date_column: int | None) -> bool:
    """A totals or summary line (Google Ads writes "Total: Campaign", "Total: Account").

    Only a row with no date can be one: its date cell is blank, holds no digit, or spans
    two dates ("2026-09-01 - 2026-09-28"). A row whose date is mistyped ("2026-09-31",
    "2026-0901") is a row to fix, never skipped, whatever its other cells say; so is a
    creative called "Summary" on a real day.
    """
    if date_column is not None and date_column < len(row) and _has_date(row[date_column]):
        return False
    for cell in row:
        if isinstance(cell, str):
            word = normalise_header(cell.split(":")[0])
            if word in _TOTAL_WORDS or cell.strip().startswith(("Total:", "合计", "总计")):
                return True
    return False


_RANGE = re.compile(r"\s+(?:-|–|—|~|to)\s+|\s*(?:–|—|~|～|至)\s*")


def _has_date(cell: Cell) -> bool:
    """Whether a date cell holds a date, or something meant as one (any digit), rather
    than nothing, a label, or a range of two dates."""
    if is_blank(cell):
        return False
    if not isinstance(cell, str):
        return True  # a number or a spreadsheet date
    if not any(ch.isdigit() for ch in cell):
        return False
    ends = _RANGE.split(cell.strip())
    return not (len(ends) == 2 and all(_is_date(end) for end in ends))


def _is_date(text: str) -> bool:
    for order in ("dmy", "mdy"):
        try:
            parse_timestamp(text, order=order)
            return True
        except ValueError:
            pass
    return False
