"""Reading one cell of a spreadsheet export: amounts, counts, percentages and dates.

Conventions that a file as a whole follows (comma or point as the decimal mark, day or
month first) are decided once per file from every cell that gives them away, never
guessed cell by cell: "1.234" means one thing throughout a file. When a file does not
give them away and the reading matters, the caller asks the user.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from trials.ingest.limits import quote

__all__ = [
    "Cell",
    "CellError",
    "DateOrder",
    "Evidence",
    "ambiguous_decimal",
    "date_order_evidence",
    "decimal_evidence",
    "is_blank",
    "parse_amount",
    "parse_count",
    "parse_date",
    "parse_timestamp",
]

Cell = str | int | float | date | datetime | None


class CellError(ValueError):
    """A cell that cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class Evidence:
    """A file-wide convention and the cell that showed it (for the preview to cite)."""

    value: str | None  # e.g. "," or "." ; "dmy" or "mdy"; None when nothing showed it
    example: str = ""
    conflict: str = ""  # a cell that contradicts ``example``; empty when consistent


DateOrder = str  # "ymd", "dmy" or "mdy"

# Currency marks and codes a platform or a shop may write beside an amount.
_CURRENCY = re.compile(
    r"(?i)(?:US\$|HK\$|NT\$|A\$|C\$|RMB|CNY|USD|EUR|GBP|HKD|JPY|TWD|SGD|AUD|CAD|元|[$¥￥€£])"
)
# Spaces of any kind, including no-break (U+00A0), narrow no-break (U+202F, what French
# locales group thousands with), thin (U+2009) and figure (U+2007) spaces.
_SPACE = r"[\s\u00a0\u202f\u2009\u2007]"
_SPACED_DIGITS = re.compile(rf"[\d.,'’]{_SPACE}+[\d.,'’]")
_SPACES = re.compile(rf"{_SPACE}+")
# Swiss thousands: 1'234.56 (an apostrophe, straight or curly, between groups of three).
_SWISS = re.compile(r"^[+-]?\d{1,3}(['’]\d{3})+([.,]\d+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
# Serial numbers from 1990-01-01 to 2100-01-01 are read as Excel dates in a date column.
_SERIAL_RANGE = (32874, 73051)


def is_blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _strip_amount(text: str) -> tuple[str, bool]:
    """The digits and separators of an amount, and whether it was a percentage.

    Raises :class:`CellError` when digits are separated by spaces ("1 2 3", "1 500"):
    whether a space groups thousands or joins two numbers cannot be told, so such a
    number is never read.
    """
    text = _CURRENCY.sub("", text.strip()).strip()
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    if text.startswith("(") and text.endswith(")"):  # accounting negative: (12.00)
        text = "-" + text[1:-1].strip()
    if _SPACED_DIGITS.search(text):
        raise CellError(
            "has spaces between its digits; write the number without spaces, e.g. 1500 or 1,500"
        )
    text = _SPACES.sub("", text)  # between a sign and the digits: "- 12"
    if "'" in text or "’" in text:
        if not _SWISS.match(text):
            raise CellError(
                "has apostrophes that do not group thousands; write the number without them"
            )
        text = text.replace("'", "").replace("’", "")
    return text, percent


_GROUPED_POINT = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")  # 12,410 or 1,234.56
_GROUPED_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")  # 12.410 or 1.234,56
_PLAIN_POINT = re.compile(r"^[+-]?\d*\.\d+$|^[+-]?\d+\.?$")
_PLAIN_COMMA = re.compile(r"^[+-]?\d*,\d+$")


def _to_float(text: str, decimal: str) -> float:
    if decimal == ".":
        if _GROUPED_POINT.match(text):
            return float(text.replace(",", ""))
        if _PLAIN_POINT.match(text):
            return float(text)
    else:
        if _GROUPED_COMMA.match(text):
            return float(text.replace(".", "").replace(",", "."))
        if _PLAIN_COMMA.match(text) or re.match(r"^[+-]?\d+$", text):
            return float(text.replace(",", "."))
    raise CellError("")


def parse_amount(value: Cell, decimal: str = ".") -> float:
    """An amount of money or a rate, as a float.

    Accepts thousands separators ("12,410"), the file's decimal mark (``decimal``),
    currency marks and codes ("$1,234.50", "¥88", "CNY 88", "88元"), percentages
    ("3.5%" is 0.035) and accounting negatives ("(12.00)"). Numbers from a spreadsheet
    pass through. Raises :class:`CellError` for anything else, including NaN and infinity
    and digits separated by spaces ("1 500": write 1500 or 1,500).
    """
    if isinstance(value, bool | date):
        raise CellError("is not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif is_blank(value):
        raise CellError("is blank")
    else:
        try:
            text, percent = _strip_amount(str(value))
        except CellError as e:
            raise CellError(f"'{quote(value)}' {e}") from None
        if text.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
            raise CellError(f"'{quote(value)}' is not a finite number")
        try:
            number = _to_float(text, decimal)
        except CellError:
            mark = "comma" if decimal == "," else "point"
            raise CellError(
                f"'{quote(value)}' is not a number (this file uses a decimal {mark})"
            ) from None
        if percent:
            number /= 100
    if not math.isfinite(number):
        raise CellError(f"'{quote(value)}' is not a finite number")
    return number


def parse_count(value: Cell, decimal: str = ".") -> int:
    """A whole count (impressions, clicks, conversions): "12,410" is 12410."""
    number = parse_amount(value, decimal)
    if number != int(number):
        raise CellError(f"'{quote(value)}' is not a whole number")
    return int(number)


def _plain_text(value: Cell) -> str | None:
    """A text cell's digits and separators, or None when it is not text or not a number
    one could read (blank, spaced digits)."""
    if not isinstance(value, str) or is_blank(value):
        return None
    try:
        return _strip_amount(value)[0]
    except CellError:
        return None


def decimal_evidence(cells: Iterable[Cell]) -> Evidence:
    """Which decimal mark the number cells of a file use, and the cell that shows it.

    "1,234.56", "0.5", "0.125" and "12.25" show a point; "1.234,56", "0,5", "0,125" and
    "12,25" a comma. "12,410" and "1.234" could be either (a thousands group) and show
    nothing; a group never starts with 0, so "0.125" is not one.
    """
    point = comma = ""
    for value in cells:
        text = _plain_text(value)
        if text is None:
            continue
        if re.match(r"^[+-]?\d{1,3}(,\d{3})+\.\d+$", text) or (
            re.match(r"^[+-]?\d*\.\d+$", text) and not _THOUSANDS_POINT.match(text)
        ):
            point = point or value
        elif (
            re.match(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$", text)
            or (re.match(r"^[+-]?\d*,\d+$", text) and not _THOUSANDS_COMMA.match(text))
            or re.match(r"^[+-]?\d{1,3}(\.\d{3}){2,}$", text)
        ):
            comma = comma or value
        elif re.match(r"^[+-]?\d{1,3}(,\d{3}){2,}$", text):  # 1,234,567
            point = point or value
        if point and comma:
            break
    if point and comma:
        return Evidence(".", point, conflict=comma)
    if point:
        return Evidence(".", point)
    if comma:
        return Evidence(",", comma)
    return Evidence(None)


# One group of thousands and nothing else: "1.500" is 1.5 or 1500 depending on the mark.
_THOUSANDS_POINT = re.compile(r"^[+-]?[1-9]\d{0,2}\.\d{3}$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2},\d{3}$")


def ambiguous_decimal(value: Cell, decimal: str) -> bool:
    """Whether a text cell reads as another number under the other decimal mark than
    ``decimal`` while meaning a thousands group there: "1.500" in a file read with a
    decimal point (1.5, or 1500), "1,500" in one read with a decimal comma. The file's
    other cells must settle which (:func:`decimal_evidence`), or the user."""
    text = _plain_text(value)
    if text is None:
        return False
    return bool((_THOUSANDS_POINT if decimal == "." else _THOUSANDS_COMMA).match(text))


# -- dates ------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\s*(.*))?$")
_CHINESE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?(?:\s*(.*))?$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?:[T ]\s*(.*))?$")
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_WORDY = re.compile(r"^(?:(\d{1,2})\s+([A-Za-z]+)\.?|([A-Za-z]+)\.?\s+(\d{1,2}))\s*,?\s+(\d{4})$")


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if len(text) == 2 else year


def date_order_evidence(cells: Iterable[Cell]) -> Evidence:
    """Whether a file's numeric dates put the day or the month first.

    "25/09/2026" shows day first and "09/25/2026" month first; "01/09/2026" shows
    nothing. Returns ``Evidence(None)`` when no cell settles it.
    """
    dmy = mdy = ""
    for value in cells:
        if not isinstance(value, str):
            continue
        m = _NUMERIC.match(value.strip())
        if not m:
            continue
        first, second = int(m.group(1)), int(m.group(2))
        if first > 12 >= second:
            dmy = dmy or value
        elif second > 12 >= first:
            mdy = mdy or value
    if dmy and mdy:
        return Evidence("dmy", dmy, conflict=mdy)
    if dmy:
        return Evidence("dmy", dmy)
    if mdy:
        return Evidence("mdy", mdy)
    return Evidence(None)


def needs_date_order(cells: Iterable[Cell]) -> bool:
    """Whether any cell is a numeric date like 01/09/2026 (day and month both ≤ 12)."""
    return any(isinstance(v, str) and _NUMERIC.match(v.strip()) for v in cells)


def parse_timestamp(
    value: Cell, order: DateOrder | None = None, date_format: str | None = None
) -> datetime:
    """A date or date-time cell as a datetime (midnight when only a date is given).

    Reads ISO dates ("2026-09-01", "2026/9/1", with an optional time), Chinese dates
    ("2026年9月1日"), "1 Sep 2026" / "Sep 1, 2026", Excel serial numbers (45900) and
    spreadsheet date cells. Numeric day/month dates ("01/09/2026") need ``order`` ("dmy"
    or "mdy"); ``date_format`` (strptime codes, e.g. "%d.%m.%Y") overrides all of this.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        raise CellError("is not a date")
    if isinstance(value, int | float):
        return _serial(value)
    if is_blank(value):
        raise CellError("is blank")
    text = str(value).strip()
    if date_format:
        try:
            return datetime.strptime(text, date_format)
        except ValueError:
            raise CellError(
                f"'{quote(text)}' does not match the date format {quote(date_format)}"
            ) from None
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _serial(float(text))
    for pattern, order_of in ((_ISO, "ymd"), (_CHINESE, "ymd"), (_NUMERIC, order)):
        m = pattern.match(text)
        if not m:
            continue
        a, b, c, rest = m.groups()
        if order_of is None:
            raise CellError(
                f"'{quote(text)}' could be day/month or month/day; say which the file uses "
                "(--date-format %d/%m/%Y or %m/%d/%Y)"
            )
        if order_of == "ymd":
            y, mo, d = int(a), int(b), int(c)
        elif order_of == "dmy":
            y, mo, d = _year(c), int(b), int(a)
        else:
            y, mo, d = _year(c), int(a), int(b)
        return _combine(text, y, mo, d, rest)
    m = _WORDY.match(text)
    if m:
        day_text = m.group(1) or m.group(4)
        month = _MONTHS.get((m.group(2) or m.group(3)).lower())
        if month:
            return _combine(text, int(m.group(5)), month, int(day_text), None)
    raise CellError(f"'{quote(text)}' is not a date; write it as YYYY-MM-DD")


def parse_date(value: Cell, order: DateOrder | None = None, date_format: str | None = None) -> date:
    """Like :func:`parse_timestamp`, keeping the calendar day only."""
    return parse_timestamp(value, order, date_format).date()


def _combine(text: str, y: int, mo: int, d: int, rest: str | None) -> datetime:
    try:
        day = datetime(y, mo, d)
    except ValueError:
        raise CellError(f"'{quote(text)}' is not a real calendar date") from None
    if not rest or not rest.strip():
        return day
    m = re.match(
        r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", rest.strip()
    )
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59 or int(m.group(3) or 0) > 59:
        raise CellError(f"'{quote(text)}' has a time that is not HH:MM[:SS]")
    return day.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=int(m.group(3) or 0))


def _serial(number: float) -> datetime:
    if not (math.isfinite(number) and _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]):
        raise CellError(f"'{number:g}' is not a date (nor an Excel date number)")
    whole = int(number)
    seconds = round((number - whole) * 86400)
    return datetime.combine(_EXCEL_EPOCH + timedelta(days=whole), datetime.min.time()) + timedelta(
        seconds=seconds
    )
