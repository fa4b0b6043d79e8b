"""Reports: every format carries the numbers; names with <script> or =HYPERLINK( stay
text everywhere; numbers stay numbers; the HTML needs nothing from the network."""

import csv
import io
import json

import openpyxl
import pytest

from tests.trials.cli.test_cli import run, write
from tests.trials.ingest.test_imports import TRIAL
from trials.reports.render import safe_cell

EVIL = {
    "name": '<script>alert(1)</script> =HYPERLINK("http://x")',
    "arms": [
        {"channel": "WeChat", "creative": '=HYPERLINK("http://evil","click")', "control": True},
        {"channel": "Weibo", "creative": "<script>alert(2)</script>"},
    ],
}


@pytest.fixture
def evil_trial(capsys, tmp_path):
    spec = TRIAL | EVIL
    assert run(capsys, "create", "--from-file", write(tmp_path, "t.json", spec))[0] == 0
    data = (
        "date,channel,creative,impressions,clicks,conversions,spend,revenue\n"
        f'2026-09-01,WeChat,"{EVIL["arms"][0]["creative"].replace(chr(34), chr(34) * 2)}",'
        "1000,40,3,80.00,300.00\n"
        "2026-09-01,Weibo,<script>alert(2)</script>,900,30,1,70.00,90.00\n"
    )
    assert run(capsys, "import", spec["name"], write(tmp_path, "d.csv", data))[0] == 0
    code, _, err = run(
        capsys,
        "decide",
        spec["name"],
        "--keep-testing",
        "WeChat/" + EVIL["arms"][0]["creative"],
        "--note",
        "-2+3 @cmd",
    )
    assert code == 0, err
    return spec["name"]


def report(capsys, tmp_path, name, fmt) -> bytes:
    out = tmp_path / f"r.{fmt}"
    code, _, err = run(capsys, "report", name, "--format", fmt, "-o", str(out))
    assert code == 0, err
    return out.read_bytes()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (-1.5, -1.5),
        (3, 3),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_csv_neutralises_text_and_keeps_numbers(capsys, tmp_path, evil_trial):
    text = report(capsys, tmp_path, evil_trial, "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for row in rows for c in row]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    # Inside "WeChat · =HYPERLINK(...)" the = is not at the start: nothing to neutralise.
    assert 'WeChat · =HYPERLINK("http://evil","click")' in cells
    assert "'-2+3 @cmd" in cells
    results = rows.index(["Results"])
    header, first = rows[results + 1], rows[results + 2]
    assert first[header.index("Clicks")] == "40" and first[header.index("Spend")] == "80.0"


def test_xlsx_has_a_sheet_per_table_strings_stay_strings(capsys, tmp_path, evil_trial):
    book = openpyxl.load_workbook(io.BytesIO(report(capsys, tmp_path, evil_trial, "xlsx")))
    assert book.sheetnames == ["About", "Verdict", "Results", "Recommendations", "Decision log"]
    results = book["Results"]
    arm = results.cell(2, 1)
    assert arm.data_type == "s"
    assert arm.value == 'WeChat · =HYPERLINK("http://evil","click")'  # not at the start
    clicks = results.cell(2, 3)
    assert clicks.data_type == "n" and clicks.value == 40
    log = book["Decision log"]
    note = [c.value for c in log[2] if c.value and "cmd" in str(c.value)]
    assert note == ["'-2+3 @cmd"]
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"  # no formulas anywhere


def test_markdown_and_html_show_names_literally(capsys, tmp_path, evil_trial):
    md = report(capsys, tmp_path, evil_trial, "md").decode()
    assert "<script>" not in md and "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in md
    page = report(capsys, tmp_path, evil_trial, "html").decode()
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    for fetch in ("src=", "href=", "<link", "<img", "url(", "@import", "<iframe"):
        assert fetch not in page.lower()
    assert "default-src 'none'" in page and "<svg" in page


def test_report_json_free_formats_agree_on_totals(capsys, tmp_path, evil_trial):
    shown = json.loads(run(capsys, "show", evil_trial, "--json")[1])
    page = report(capsys, tmp_path, evil_trial, "html").decode()
    assert f"{shown['arms'][0]['totals']['spend']:,.2f}" in page
    with pytest.raises(SystemExit) as e:
        run(capsys, "report", evil_trial, "--format", "pdf", "-o", "x")
    assert e.value.code == 2


def test_csv_numbers_have_sensible_precision(capsys, tmp_path, evil_trial):
    import re

    text = report(capsys, tmp_path, evil_trial, "csv").decode("utf-8-sig")
    numbers = [
        c for row in csv.reader(io.StringIO(text)) for c in row if re.fullmatch(r"-?\d+\.\d+", c)
    ]
    assert numbers and all(len(n.split(".")[1]) <= 5 for n in numbers)
    assert "Verdict" in text and "Data source" in text


HOSTILE = {
    "name": "![x](http://127.0.0.1:9/x.png) http://evil.example/",
    "hypothesis": "Beats www.evil.example; ask boss@evil.example <b>x</b>",
    "arms": [
        {"channel": "[link](http://x)", "creative": "www.evil.example", "control": True},
        {"channel": "<http://evil.example>", "creative": "ftp://evil.example/f"},
    ],
}


def test_the_markdown_report_has_no_live_link_image_or_html(capsys, tmp_path, monkeypatch):
    from tests.gfm import live_markup
    from trials.analysis.accounts import add_user, grant
    from trials.storage.engine import connect, database_url

    engine = connect(database_url())  # an author whose name is an address
    add_user(engine, "tester", "someone@evil.example")
    grant(engine, "tester", "Default", "someone@evil.example", "editor")
    engine.dispose()
    monkeypatch.setenv("TRIALS_USER", "someone@evil.example")
    spec = TRIAL | HOSTILE
    assert run(capsys, "create", "--from-file", write(tmp_path, "t.json", spec))[0] == 0
    arms = [(a["channel"], a["creative"]) for a in HOSTILE["arms"]]
    data = "date,channel,creative,impressions,clicks,conversions,spend,revenue\n" + "".join(
        f'2026-09-0{d},"{c}","{k}",1000,40,{2 + i},80.00,{200 + 50 * i}.00\n'
        for d in range(1, 4)
        for i, (c, k) in enumerate(arms)
    )
    assert run(capsys, "import", spec["name"], write(tmp_path, "d.csv", data))[0] == 0
    code, _, err = run(
        capsys,
        "decide",
        spec["name"],
        "--keep-testing",
        "·".join(arms[0]),
        "--note",
        "see http://evil.example/x and ![i](http://evil.example/i.png)",
        "--budget-change",
        "www.evil.example +20%",
    )
    assert code == 0, err
    text = report(capsys, tmp_path, spec["name"], "md").decode()
    assert live_markup(text) == []
    # The hostile text is there, readable, every time it should be (escapes and the
    # invisible word joiner aside).
    plain = text.replace("\\", "").replace("\u2060", "")
    assert plain.count("http://evil.example/x") == 1
    assert "&lt;http://evil.example&gt;" in plain and "someone@evil.example" in plain
