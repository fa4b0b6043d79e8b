"""Nothing is stored with another meaning than the file's: a number that reads two ways
asks, the visible sheet is read, only rows without a date are totals, two columns for one
field and digits split by spaces are refused. For daily results and own orders alike,
through the readers and through ``python -m trials import`` / ``orders``."""

import json
from datetime import datetime

import pytest

from tests.conftest import make_spec
from tests.trials.cli.test_cli import run, write
from tests.trials.ingest.test_imports import TRIAL, create, totals
from tests.trials.ingest.workbooks import HEADER, workbook
from trials.domain import Trial
from trials.ingest.daily import read_daily_file
from trials.ingest.orders import read_orders_file
from trials.ingest.reading import ImportOptions

DAILY = "date,channel,creative,impressions,clicks,conversions,spend,revenue\n"
ORDERS = "order_id,created_at,amount,status,utm_source,utm_content\n"


def _trial() -> Trial:
    """A trial as the readers see it (its dates), never stored."""
    now = datetime(2026, 8, 1)
    return Trial(1, make_spec(), (), now, "tester", now, "tester")


def daily(text: str, **options):
    return read_daily_file(text.encode(), "d.csv", _trial(), ImportOptions(**options))


def orders(text: str, **options):
    return read_orders_file(text.encode(), "o.csv", ImportOptions(**options))


def messages(reading) -> list[str]:
    return [str(p) for p in reading.errors]


# -- a number that reads two ways ----------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "point", "comma"), [("1.500", "1.5", "1500"), ("2.000", "2", "2000")]
)
def test_a_point_thousands_group_in_a_comma_separated_file_asks(cell, point, comma):
    reading = daily(DAILY + f"2026-09-01,WeChat,Video A,100,10,1,{cell},20\n")
    assert not reading.ok and reading.ask_decimal and reading.rows == ()
    assert messages(reading) == [
        f"d.csv, row 2, column 'spend': '{cell}' could be {point} (decimal point) or {comma} "
        "(decimal comma), and nothing else in the file shows which it uses. Say which "
        "(--decimal . or --decimal ,; on the Data page, the Decimal mark choice)."
    ]
    answered = daily(DAILY + f"2026-09-01,WeChat,Video A,100,10,1,{cell},20\n", decimal=",")
    assert answered.ok and answered.rows[0].spend == float(comma)
    answered = daily(DAILY + f"2026-09-01,WeChat,Video A,100,10,1,{cell},20\n", decimal=".")
    assert answered.ok and answered.rows[0].spend == float(point)


def test_the_same_file_reading_1500_two_ways_asks_instead_of_mixing():
    # Before: "1.500" was stored as 1.5 and "1,500" as 1500 in one file.
    reading = daily(
        DAILY
        + '2026-09-01,WeChat,Video A,100,10,1,1.500,"1,500"\n'
        + "2026-09-02,WeChat,Video A,100,10,1,2,3\n"
    )
    assert reading.ask_decimal and "'1.500' could be 1.5" in messages(reading)[0]


def test_a_cell_that_settles_the_mark_settles_it_for_the_file():
    reading = daily(DAILY + "2026-09-01,WeChat,Video A,100,10,1,1.500,12.25\n")
    assert reading.ok and not reading.ask_decimal
    assert reading.rows[0].spend == 1.5 and reading.decimal_reason == "decimal point, as in '12.25'"
    # "0.125" cannot be a thousands group: it settles a point too.
    assert daily(DAILY + "2026-09-01,WeChat,Video A,100,10,1,1.500,0.125\n").ok


def test_a_comma_thousands_group_in_a_semicolon_file_asks():
    reading = daily(DAILY.replace(",", ";") + "2026-09-01;WeChat;Video A;100;10;1;1,500;20\n")
    assert reading.ask_decimal
    assert "'1,500' could be 1500 (decimal point) or 1.5 (decimal comma)" in messages(reading)[0]


def test_an_orders_amount_that_reads_two_ways_asks_too():
    reading = orders(ORDERS + "1001,2026-09-01 10:00,1.500,paid,wechat,video-a\n")
    assert reading.ask_decimal and "column 'amount': '1.500' could be 1.5" in messages(reading)[0]
    assert (
        orders(ORDERS + "1001,2026-09-01 10:00,1.500,paid,wechat,video-a\n", decimal=",")
        .orders[0]
        .amount
        == 1500
    )


def test_the_cli_asks_and_decimal_answers(capsys, tmp_path):
    name = create(capsys, tmp_path)
    path = write(tmp_path, "eu.csv", DAILY + "2026-09-01,WeChat,Video A,1.500,10,1,5,20\n")
    code, _out, err = run(capsys, "import", name, path)
    assert code == 1 and "nothing was written" in err
    assert "row 2, column 'impressions': '1.500' could be 1.5 (decimal point) or 1500" in err
    assert run(capsys, "import", name, path, "--decimal", ",")[0] == 0
    assert totals(capsys, name)[0][0] == 1500


# -- which sheet ---------------------------------------------------------------------------


def _sheets(**rows):
    return {
        name: [[*HEADER, "revenue"], ["2026-09-01", "WeChat", "Video A", n, 10, 1, 5, 20]]
        for name, n in rows.items()
    }


def test_a_hidden_sheet_is_ignored_and_named_in_the_preview():
    data = workbook(_sheets(Raw=999, Daily=100), active="Daily", hidden=["Raw"])
    reading = read_daily_file(data, "w.xlsx", _trial())
    assert reading.ok and reading.format_label == "Excel workbook, sheet 'Daily'"
    assert [r.impressions for r in reading.rows] == [100]
    assert [(w.row, w.message) for w in reading.warnings[:1]] == [(0, "ignored hidden sheet 'Raw'")]
    reading = read_orders_file(
        workbook(
            {
                "Old": [
                    ["order id", "created at", "amount", "utm_source"],
                    [1, "2026-09-01", 5, "x"],
                ],
                "Orders": [
                    ["order id", "created at", "amount", "utm_source"],
                    [2, "2026-09-01", 7, "y"],
                ],
            },
            active="Orders",
            very_hidden=["Old"],
        ),
        "o.xlsx",
    )
    assert [o.order_id for o in reading.orders] == ["2"]
    assert "ignored hidden sheet 'Old'" in [w.message for w in reading.warnings]


def test_the_cli_reads_the_visible_sheet_and_says_which_it_ignored(capsys, tmp_path):
    name = create(capsys, tmp_path)
    path = tmp_path / "w.xlsx"
    path.write_bytes(workbook(_sheets(Raw=999, Daily=100), active="Daily", hidden=["Raw"]))
    code, out, _ = run(capsys, "import", name, str(path), "--dry-run")
    assert code == 0 and "w.xlsx: Excel workbook, sheet 'Daily'" in out
    assert "warning: w.xlsx: ignored hidden sheet 'Raw'" in out
    out = json.loads(run(capsys, "import", name, str(path), "--json")[1])
    assert out["warnings"][0] == {"row": 0, "column": "", "message": "ignored hidden sheet 'Raw'"}
    assert totals(capsys, name)[0][0] == 100


# -- totals --------------------------------------------------------------------------------


def test_only_a_row_without_a_date_is_a_total_and_the_preview_lists_it():
    reading = daily(
        DAILY
        + "2026-09-01,WeChat,Video A,100,10,1,5,20\n"
        + "2026-09-31,WeChat,Summary,100,10,1,5,20\n"  # a mistyped date: a row to fix
        + "Total,,,200,20,2,10,40\n"
        + "2026-09-01 - 2026-09-28,Summary,,200,20,2,10,40\n"
    )
    assert reading.skipped == ((4, "a total or summary row"), (5, "a total or summary row"))
    assert messages(reading) == [
        "d.csv, row 3, column 'date': '2026-09-31' is not a real calendar date"
    ]


def test_a_summary_creative_with_a_date_typo_is_an_error_in_the_cli(capsys, tmp_path):
    name = create(
        capsys,
        tmp_path,
        TRIAL | {"arms": [*TRIAL["arms"], {"channel": "WeChat", "creative": "Summary"}]},
    )
    path = write(
        tmp_path,
        "s.csv",
        DAILY + "2026-09-01,WeChat,Summary,100,10,1,5,20\n2026-0902,WeChat,Summary,100,10,1,5,20\n",
    )
    code, out, err = run(capsys, "import", name, path)
    assert code == 1 and "s.csv, row 3, column 'date': '2026-0902' is not a date" in err
    assert "skipped" not in out


def test_an_orders_total_row_needs_no_date_too():
    reading = orders(
        ORDERS + "1001,2026-09-01 10:00,5,paid,wechat,a\n合计,,5,,,\nTotal,2026-13-01,5,paid,x,y\n"
    )
    assert reading.skipped == ((3, "a total or summary row"),)
    assert (
        "row 4, column 'created_at': '2026-13-01' is not a real calendar date"
        in messages(reading)[0]
    )


# -- two columns for one field -------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("clicks,clicks", "'clicks' (column 5) and 'clicks' (column 6)"),
        ("Clicks,点击量", "'Clicks' (column 5) and '点击量' (column 6)"),
    ],
)
def test_two_columns_for_one_field_are_refused_naming_both(header, named):
    text = (
        f"date,channel,creative,impressions,{header},conversions,spend\n"
        "2026-09-01,WeChat,Video A,100,10,99,1,5\n"
    )
    reading = daily(text)
    assert not reading.ok and reading.rows == ()
    assert messages(reading) == [
        f"d.csv, row 1: 2 columns could be the clicks: {named}. Choose one (under Columns "
        "on the Data page, or --map clicks=COLUMN), or remove the other from the file."
    ]
    chosen = daily(text, mapping={"clicks": "6"})
    assert chosen.ok and chosen.rows[0].clicks == 99


def test_different_things_keep_their_order_and_are_not_refused():
    # Link clicks and all clicks are not the same measure: the first synonym is read.
    text = (
        "date,channel,creative,impressions,Clicks: all,Link clicks,conversions,spend\n"
        "2026-09-01,WeChat,Video A,100,30,10,1,5\n"
    )
    reading = daily(text)
    assert reading.ok and reading.rows[0].clicks == 10


def test_two_amount_columns_in_an_orders_file_are_refused(capsys, tmp_path):
    text = "order id,created at,amount,金额,utm_source\n1001,2026-09-01,5,6,wechat\n"
    assert (
        "2 columns could be the amount: 'amount' (column 3) and '金额' (column 4)"
        in (messages(orders(text))[0])
    )
    name = create(capsys, tmp_path)
    code, _, err = run(capsys, "orders", name, write(tmp_path, "o.csv", text))
    assert code == 1 and "2 columns could be the amount" in err
    assert run(capsys, "orders", name, write(tmp_path, "o.csv", text), "--map", "amount=4")[0] == 0


# -- digits split by spaces ----------------------------------------------------------------


@pytest.mark.parametrize("cell", ["1 2 3", "1 500", "1\u00a0500", "1\u202f500", "1\u2009500"])
def test_digits_split_by_spaces_are_refused(cell):
    reading = daily(DAILY + f"2026-09-01,WeChat,Video A,{cell},10,1,5,20\n")
    assert messages(reading) == [
        f"d.csv, row 2, column 'impressions': '{cell}' has spaces between its digits; write "
        "the number without spaces, e.g. 1500 or 1,500"
    ]


def test_spaced_digits_in_an_orders_amount_and_in_the_cli_are_refused(capsys, tmp_path):
    text = ORDERS + "1001,2026-09-01 10:00,1 500,paid,wechat,video-a\n"
    assert "'1 500' has spaces between its digits" in messages(orders(text))[0]
    name = create(capsys, tmp_path)
    code, _, err = run(
        capsys,
        "import",
        name,
        write(tmp_path, "s.csv", DAILY + "2026-09-01,WeChat,Video A,1 2 3,10,1,5,20\n"),
    )
    assert code == 1 and "'1 2 3' has spaces between its digits" in err
    assert totals(capsys, name)[0][0] == 0


def test_spaces_beside_a_number_are_still_fine():
    text = DAILY + '2026-09-01,WeChat,Video A, 100 ,10,1,"CNY 5,50","3,5 %"\n'
    reading = daily(text, decimal=",")
    assert reading.ok and reading.rows[0].spend == 5.5 and reading.rows[0].revenue == 0.035


# -- quoting cells -------------------------------------------------------------------------


def test_messages_quote_at_most_80_characters_of_a_cell():
    long = "9" * 5000 + "x"
    reading = daily(DAILY + f"2026-09-01,WeChat,Video A,{long},10,1,5,20\n")
    [message] = messages(reading)
    assert "9" * 80 + "…" in message and "9" * 81 not in message and len(message) < 300
    header = "h" * 3000
    reading = daily(f"date,{header}\n2026-09-01,x\n")
    assert "'" + "h" * 80 + "…'" in messages(reading)[0] and len(messages(reading)[0]) < 400
