"""Values beyond what the registry stores, through the CLI: each is named with its file,
row and column (or field) and the largest accepted value; nothing is written and no
traceback or database error text reaches the user."""

import json
import os
import subprocess
import sys

import pytest
from openpyxl import Workbook

from tests.conftest import ROOT
from tests.trials.cli.test_cli import TRIAL_JSON, run, write

NAME = TRIAL_JSON["name"]
HEADER = "date,channel,creative,impressions,clicks,conversions,spend,revenue\n"
GOOD = "2026-12-02,Douyin,Question hook,1000,20,2,10.00,30.00\n"
RAW = ("Traceback", "sqlite3.", "psycopg", "IntegrityError", "OperationalError", "DataError")


@pytest.fixture
def trial(capsys, tmp_path):
    assert run(capsys, "create", "--from-file", write(tmp_path, "t.json", TRIAL_JSON))[0] == 0


def _nothing_imported(capsys):
    code, out, _ = run(capsys, "imports", NAME, "--json")
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        (
            "2026-12-02,Douyin,Product-first hook,1000,20,2,10000000000000,30\n",
            "spend",
            "10,000,000,000,000.00 is more than the largest accepted (100,000,000,000); "
            "check the column and its decimal mark",
        ),
        (
            "2026-12-02,Douyin,Product-first hook,100000000000000000000,20,2,10,30\n",
            "impressions",
            "100,000,000,000,000,000,000 is more than the largest accepted "
            "(1,000,000,000,000); check the column",
        ),
    ],
)
def test_import_names_a_number_too_big_with_its_row_column_and_limit(
    capsys, tmp_path, trial, line, column, message
):
    path = write(tmp_path, "big.csv", HEADER + GOOD + line)
    code, _, err = run(capsys, "import", NAME, path)
    assert code == 1
    assert f"  - big.csv, row 3, column '{column}': {message}" in err
    assert not any(raw in err for raw in RAW)
    code, out, _ = run(capsys, "import", NAME, path, "--json")
    problems = json.loads(out)["errors"]
    assert code == 1 and problems == [{"row": 3, "column": column, "message": message}]
    _nothing_imported(capsys)


@pytest.mark.parametrize("value", [1e308, 1e13])
def test_a_workbook_cell_too_big_is_named_too(capsys, tmp_path, trial, value):
    book = Workbook()
    sheet = book.active
    sheet.append(["date", "channel", "creative", "impressions", "clicks", "conversions"])
    sheet["G1"], sheet["H1"] = "spend", "revenue"
    sheet.append(["2026-12-02", "Douyin", "Question hook", 1000, 20, 2, 10.0, value])
    path = tmp_path / "big.xlsx"
    book.save(path)
    code, _, err = run(capsys, "import", NAME, str(path))
    assert code == 1
    assert "big.xlsx, row 2, column 'revenue': " in err
    assert "is more than the largest accepted (100,000,000,000)" in err
    _nothing_imported(capsys)


def test_orders_with_a_10_kb_id_or_a_300_character_utm_value_are_named(capsys, tmp_path, trial):
    orders = (
        "order_id,time,amount,status,utm_source,utm_content\n"
        f"{'9' * 10_240},2026-12-02 10:00,88,paid,douyin,question-hook\n"
        f"1002,2026-12-02 11:00,88,paid,{'d' * 300},question-hook\n"
        "1003,2026-12-02 12:00,1e13,paid,douyin,question-hook\n"
        "1004,2026-12-02 12:00,100000000000000,paid,douyin,question-hook\n"
    )
    code, _, err = run(capsys, "orders", NAME, write(tmp_path, "o.csv", orders))
    assert code == 1
    assert (
        "o.csv, row 2, column 'order_id': the order id is 10,240 characters long; at most "
        "120 are accepted; check that this column holds order ids" in err
    )
    assert (
        "o.csv, row 3, column 'utm_source': is 300 characters long; at most 150 are accepted" in err
    )
    assert "o.csv, row 5, column 'amount': 100,000,000,000,000.00 is more than the largest" in err
    assert not any(raw in err for raw in RAW)
    _nothing_imported(capsys)


def test_create_names_a_budget_too_big(capsys, tmp_path):
    for budget in (1e13, 1e308):
        path = write(tmp_path, "t.json", TRIAL_JSON | {"budget": budget})
        code, _, err = run(capsys, "create", "--from-file", path)
        assert code == 1
        assert "  - budget: " in err and "largest accepted (9,000,000,000,000)" in err
    # JSON has no infinity, but Python's reader takes one; it is refused all the same.
    path = write(tmp_path, "t.json", json.dumps(TRIAL_JSON | {"budget": float("inf")}))
    code, _, err = run(capsys, "create", "--from-file", path)
    assert code == 1 and "  - budget: 'inf' is not a finite number" in err
    assert json.loads(run(capsys, "list", "--json")[1]) == []


def test_a_user_name_too_long_is_refused_before_anything_is_written(tmp_path):
    env = os.environ | {"PYTHONPATH": str(ROOT), "TRIALS_USER": "u" * 200}
    path = write(tmp_path, "t.json", TRIAL_JSON)
    done = subprocess.run(
        [sys.executable, "-m", "trials", "create", "--from-file", path],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    # No account can have such a name (accounts' names are at most 120 characters), so
    # the command is refused as acting for no account, the name cut to 80 characters.
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: no account named '{'u' * 80}' (from TRIALS_USER)")
    assert "Traceback" not in done.stderr
