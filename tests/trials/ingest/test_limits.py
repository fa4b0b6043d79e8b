"""Every cap on an upload holds while the file is read, with small limits passed in: text
rows, lines, cells and columns; the messages name the file and the cap, say what to do,
and quote at most 80 characters of any cell."""

import pytest

from trials.domain import UserError
from trials.ingest.limits import ImportLimits, TableError, quote
from trials.ingest.tables import read_table

HEADER = b"date,channel,creative,impressions,clicks,conversions,spend\n"


def refusal(data: bytes, name: str = "x.csv", **limits) -> str:
    with pytest.raises(TableError) as e:
        read_table(data, name, ImportLimits(**limits))
    return str(e.value)


def test_quote_keeps_80_characters_and_marks_the_rest():
    assert quote("a" * 80) == "a" * 80
    assert quote("a" * 81) == "a" * 80 + "…"
    assert quote(12) == "12"


def test_the_row_cap_names_the_file_the_cap_and_what_to_do():
    message = refusal(HEADER + b"1,2,3\n" * 20, "long.csv", max_rows=10)
    assert message.startswith("long.csv: more than 10 rows (TRIALS_MAX_ROWS)")
    assert "Split the file" in message and "shorter date range" in message


def test_the_row_cap_stops_the_reading_before_the_rest_is_decoded():
    # The bytes after row 5,000 are not text in any encoding read; the file is refused
    # for its rows, so they were never decoded: the text is read a piece at a time.
    data = HEADER + b"1,2,3\n" * 5000 + b"\x81\n"
    assert "more than 1,000 rows" in refusal(data, max_rows=1000)
    assert "could not tell the text encoding" in refusal(data, max_rows=10_000)


def test_blank_lines_count_toward_a_bound_too():
    message = refusal(HEADER + b"\n" * 3000 + b"1,2,3\n", max_rows=10)
    assert "more than 10 rows" in message


def test_a_cell_over_the_cap_is_refused_and_quoted_short():
    long = b"x" * 500
    message = refusal(HEADER + b"2026-09-01,WeChat," + long + b",1,1,0,1\n", max_cell_chars=100)
    assert message.startswith("x.csv, line 2, column 3: a cell of 500 characters")
    assert "the limit is 100" in message
    assert "x" * 80 + "…" in message and "x" * 81 not in message


def test_a_quote_left_open_is_refused_as_one_long_row():
    data = HEADER + b'2026-09-01,"WeChat,Video A,1,1,0,1\n' + b"2026-09-02,WeChat,A,1,1,0,1\n" * 500
    message = refusal(data, max_record_chars=2000)
    assert "a row of more than 2,000 characters" in message and "line" in message
    # With the default limits the csv module's own cap on one field stops it.
    data = HEADER + b'2026-09-01,"WeChat\n' + b"a" * 200_000 + b"\n"
    assert "a cell of more than 32,767 characters" in refusal(data)


def test_a_single_line_of_a_megabyte_is_refused_before_it_is_split():
    data = HEADER + b"a," * 600_000 + b"\n"
    assert "a row of more than 1,000,000 characters" in refusal(data)


def test_columns_and_cells_are_capped():
    assert "more than 8 columns" in refusal(HEADER + b"1," * 20 + b"\n", max_columns=8)
    message = refusal(HEADER + b"1,2,3,4,5,6,7\n" * 40, max_cells=100)
    assert "more than 100 cells (7 columns wide; TRIALS_MAX_CELLS)" in message
    assert "fewer columns or a shorter date range" in message


def test_limits_from_the_environment_are_checked(monkeypatch):
    monkeypatch.setenv("TRIALS_MAX_CELLS", "5000")
    assert ImportLimits.from_env().max_cells == 5000
    assert ImportLimits.from_env().max_sheet_cells == 1250
    monkeypatch.setenv("TRIALS_MAX_ROWS", "lots")
    with pytest.raises(UserError, match="TRIALS_MAX_ROWS=lots is not a number"):
        ImportLimits.from_env()
