"""Reading single cells: amounts, counts, percentages, dates; file-wide conventions."""

from datetime import date, datetime

import pytest

from trials.ingest.cells import (
    CellError,
    date_order_evidence,
    decimal_evidence,
    parse_amount,
    parse_count,
    parse_date,
    parse_timestamp,
)


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("12,410", ".", 12410.0),
        ("1,234.56", ".", 1234.56),
        ("1.234,56", ",", 1234.56),
        ("12,5", ",", 12.5),
        ("1.234", ",", 1234.0),
        ("1'234.56", ".", 1234.56),  # Swiss thousands
        ("- 12", ".", -12.0),
        ("$1,234.50", ".", 1234.5),
        ("¥88", ".", 88.0),
        ("￥1,000.00", ".", 1000.0),
        ("CNY 88.10", ".", 88.1),
        ("88.10 USD", ".", 88.1),
        ("€ 1.000,00", ",", 1000.0),
        ("88元", ".", 88.0),
        ("3.5%", ".", 0.035),
        ("3,5 %", ",", 0.035),
        ("(12.00)", ".", -12.0),
        ("0", ".", 0.0),
        (42, ".", 42.0),
        (4.25, ".", 4.25),
    ],
)
def test_amounts_in_the_forms_exports_write(text, decimal, expected):
    assert parse_amount(text, decimal) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["abc", "1,2,3", "12.34.5", "nan", "inf", "-inf", "1e999", ""])
def test_non_numbers_are_refused_with_the_value_named(text):
    with pytest.raises(CellError):
        parse_amount(text, ".")


def test_one_convention_per_file_never_cell_by_cell():
    # Under a decimal comma, "1,234.56" is not a number; it is not silently re-read.
    with pytest.raises(CellError, match="decimal comma"):
        parse_amount("1,234.56", ",")
    with pytest.raises(CellError):
        parse_amount(float("nan"))


def test_counts_must_be_whole():
    assert parse_count("12,410") == 12410
    assert parse_count("3.00") == 3
    with pytest.raises(CellError, match="whole number"):
        parse_count("2.5")


@pytest.mark.parametrize(
    ("cells", "mark"),
    [
        (["1,234.56", "12"], "."),
        (["0.5"], "."),
        (["1.234,56"], ","),
        (["12,25"], ","),
        (["1.234.567"], ","),
        (["1,234,567"], "."),
        (["12,410", "1.234", "7"], None),  # a thousands group could be either
    ],
)
def test_decimal_mark_evidence(cells, mark):
    assert decimal_evidence(cells).value == mark


def test_mixed_decimal_marks_are_a_conflict():
    evidence = decimal_evidence(["1,234.56", "12,5"])
    assert evidence.conflict == "12,5"


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2026-09-01", None, date(2026, 9, 1)),
        ("2026/9/1", None, date(2026, 9, 1)),
        ("2026.09.01", None, date(2026, 9, 1)),
        ("2026年9月1日", None, date(2026, 9, 1)),
        ("2026 年 9 月 1 日", None, date(2026, 9, 1)),
        ("01/09/2026", "dmy", date(2026, 9, 1)),
        ("01/09/2026", "mdy", date(2026, 1, 9)),
        ("13.09.26", "dmy", date(2026, 9, 13)),
        ("1 Sep 2026", None, date(2026, 9, 1)),
        ("September 1, 2026", None, date(2026, 9, 1)),
        ("46266", None, date(2026, 9, 1)),  # Excel serial number
        (46266, None, date(2026, 9, 1)),
        (datetime(2026, 9, 1, 13, 5), None, date(2026, 9, 1)),
        (date(2026, 9, 1), None, date(2026, 9, 1)),
    ],
)
def test_dates(text, order, expected):
    assert parse_date(text, order) == expected


def test_excel_serial_matches_excels_calendar():
    # Excel shows serial 45658 as 2025-01-01.
    assert parse_date(45658) == date(2025, 1, 1)


def test_ambiguous_day_month_asks_instead_of_guessing():
    with pytest.raises(CellError, match="day/month or month/day"):
        parse_date("01/09/2026")


@pytest.mark.parametrize("text", ["2026-09-31", "2026-13-01", "yesterday", "12", "31/31/2026"])
def test_bad_dates_are_refused(text):
    with pytest.raises(CellError):
        parse_date(text, "dmy")


def test_explicit_format_wins():
    assert parse_date("09-01-2026", date_format="%m-%d-%Y") == date(2026, 9, 1)
    with pytest.raises(CellError, match="does not match"):
        parse_date("2026-09-01", date_format="%d/%m/%Y")


def test_timestamps_keep_the_time():
    assert parse_timestamp("2026-09-01 13:45:10") == datetime(2026, 9, 1, 13, 45, 10)
    assert parse_timestamp("2026-09-01T08:00") == datetime(2026, 9, 1, 8, 0)
    assert parse_timestamp("2026年9月1日 08:30") == datetime(2026, 9, 1, 8, 30)
    with pytest.raises(CellError, match="HH:MM"):
        parse_timestamp("2026-09-01 25:00")


def test_date_order_evidence():
    assert date_order_evidence(["01/09/2026", "25/09/2026"]).value == "dmy"
    assert date_order_evidence(["09/25/2026"]).value == "mdy"
    assert date_order_evidence(["01/09/2026"]).value is None
    assert date_order_evidence(["25/09/2026", "09/25/2026"]).conflict == "09/25/2026"
