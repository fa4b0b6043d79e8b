"""Importing daily results: every sample export imports to exactly its numbers, bad files
commit nothing, re-imports change nothing, overlaps need --replace, undo restores."""

import json
from datetime import date

import pytest

from tests.conftest import ROOT, make_spec
from tests.trials.cli.test_cli import run, write
from trials.analysis.importing import preview_import
from trials.domain import ArmSpec, ResultRow, UserError
from trials.domain.imports import OverlapError
from trials.ingest.daily import read_daily_file
from trials.ingest.reading import ImportOptions

FILES = ROOT / "tests" / "trials" / "files"

TRIAL = {
    "name": "Import test",
    "primary_metric": "roas",
    "break_even_roas": 2,
    "currency": "CNY",
    "start": "2026-09-01",
    "end": "2026-09-28",
    "budget": 5000,
    "arms": [
        {"channel": "WeChat", "creative": "Video A", "control": True},
        {"channel": "Weibo", "creative": "Image B"},
    ],
}
CHINESE_TRIAL = TRIAL | {
    "name": "中文试验",
    "arms": [
        {"channel": "微信", "creative": "视频A", "control": True},
        {"channel": "微博", "creative": "图片B"},
    ],
}

# What each sample file holds, summed by hand from the file: per arm, impressions,
# clicks, conversions, spend, revenue, days.
EXPECTED = {
    "google_ads_report.csv": (
        TRIAL,
        [(2514, 116, 7, 232.40, 1240.00, 2), (2018, 80, 3, 199.35, 579.50, 2)],
    ),
    "meta_ads_export.csv": (
        TRIAL,
        [(4400, 45, 2, 290.00, 260.00, 2), (3750, 63, 1, 245.50, 88.00, 2)],
    ),
    "semicolon_bom_comma_decimal.csv": (
        TRIAL,
        [(2734, 112, 9, 2334.56, 4345.77, 2), (1990, 59, 3, 200.95, 225.50, 2)],
    ),
    "results.xlsx": (
        TRIAL,
        [(3100, 93, 7, 410.00, 1050.00, 2), (2300, 57, 3, 290.75, 309.99, 2)],
    ),
    "utf16_unicode_text.txt": (
        TRIAL,
        [(1000, 40, 2, 80.00, 190.00, 1), (900, 20, 1, 70.00, 60.00, 1)],
    ),
    "gb18030_chinese_headers.csv": (
        CHINESE_TRIAL,
        [(23412, 598, 22, 1950.50, 4580.00, 2), (20216, 404, 13, 1620.10, 2300.25, 2)],
    ),
}


def create(capsys, tmp_path, spec=TRIAL):
    assert run(capsys, "create", "--from-file", write(tmp_path, "t.json", spec))[0] == 0
    return spec["name"]


def totals(capsys, name):
    shown = json.loads(run(capsys, "show", name, "--json")[1])
    return [
        tuple(
            a["totals"][k]
            for k in ("impressions", "clicks", "conversions", "spend", "revenue", "days")
        )
        for a in shown["arms"]
    ]


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_each_sample_export_imports_to_exactly_its_numbers(capsys, tmp_path, file_name):
    spec, expected = EXPECTED[file_name]
    name = create(capsys, tmp_path, spec)
    code, _out, err = run(capsys, "import", name, str(FILES / file_name))
    assert code == 0, err
    assert totals(capsys, name) == expected


def test_presets_are_recognised_from_the_headers(capsys, tmp_path):
    name = create(capsys, tmp_path)
    for file_name, preset in (
        ("google_ads_report.csv", "google-ads"),
        ("meta_ads_export.csv", "meta-ads"),
        ("results.xlsx", "generic"),
    ):
        code, out, _ = run(capsys, "import", name, str(FILES / file_name), "--dry-run", "--json")
        assert code == 0
        assert json.loads(out)["preset"] == preset


def test_google_ads_title_lines_and_total_rows_are_skipped_and_listed(capsys, tmp_path):
    name = create(capsys, tmp_path)
    out = json.loads(run(capsys, "import", name, str(FILES / "google_ads_report.csv"), "--json")[1])
    assert out["header_row"] == 3
    assert out["skipped"] == [
        {"row": 8, "reason": "a total or summary row"},
        {"row": 9, "reason": "a total or summary row"},
    ]


def test_blank_results_mean_zero_only_for_the_platform_that_does_that(capsys, tmp_path):
    name = create(capsys, tmp_path)
    code, _, err = run(
        capsys,
        "import",
        name,
        str(FILES / "meta_ads_export.csv"),
        "--preset",
        "generic",
        "--map",
        "date=Day",
        "--map",
        "conversions=Results",
        "--map",
        "clicks=Link clicks",
        "--map",
        "spend=Amount spent (CNY)",
        "--map",
        "revenue=Purchases conversion value",
        "--map",
        "channel=Campaign name",
        "--map",
        "creative=Ad name",
    )
    assert code == 1
    assert "row 3, column 'Results': the conversions cell is blank" in err
    assert totals(capsys, name)[0][0] == 0


def test_a_file_with_bad_rows_names_each_and_writes_nothing(capsys, tmp_path):
    name = create(capsys, tmp_path)
    code, out, err = run(capsys, "import", name, str(FILES / "bad_rows.csv"))
    assert code == 1
    for where in (
        "row 3, column 'clicks': -5 is negative",
        "row 4, column 'clicks': 140 clicks but only 100 impressions",
        "row 5, column 'impressions': 'abc' is not a number",
        "row 6, column 'date': '2026-09-31' is not a real calendar date",
        "row 7, column 'date': 2026-10-05 is outside the trial's dates",
        "row 7, column 'spend': 'inf' is not a finite number",
        "row 9, column 'creative': the creative is blank",
    ):
        assert f"bad_rows.csv, {where}" in err
    assert "nothing was written" in err
    assert "row 8, column 'conversions': 12 conversions from 10 clicks: accepted" in out
    assert totals(capsys, name) == [(0, 0, 0, 0.0, 0.0, 0)] * 2
    assert json.loads(run(capsys, "imports", name, "--json")[1]) == []


def test_dry_run_writes_nothing(capsys, tmp_path):
    name = create(capsys, tmp_path)
    code, out, _ = run(capsys, "import", name, str(FILES / "results.xlsx"), "--dry-run", "--json")
    assert code == 0
    preview = json.loads(out)
    assert preview["written"] is False and preview["changes"]["new"] == 4
    assert totals(capsys, name) == [(0, 0, 0, 0.0, 0.0, 0)] * 2


def test_importing_the_same_file_twice_changes_nothing(capsys, tmp_path):
    name = create(capsys, tmp_path)
    path = str(FILES / "google_ads_report.csv")
    run(capsys, "import", name, path)
    before = totals(capsys, name)
    code, out, _ = run(capsys, "import", name, path, "--json")
    again = json.loads(out)
    assert code == 0 and again["written"] is False and again["import"] is None
    assert again["changes"] == {"new": 0, "changed": 0, "unchanged": 4, "removed": 0}
    assert again["imported_before"]["batch"] == 1
    assert totals(capsys, name) == before
    assert len(json.loads(run(capsys, "imports", name, "--json")[1])) == 1


def test_overlap_needs_replace_then_undo_restores_the_previous_state(capsys, tmp_path):
    name = create(capsys, tmp_path)
    run(capsys, "import", name, str(FILES / "google_ads_report.csv"))
    google = totals(capsys, name)
    code, _, err = run(capsys, "import", name, str(FILES / "meta_ads_export.csv"))
    assert code == 1 and "4 rows would change numbers already stored" in err
    assert totals(capsys, name) == google
    preview = json.loads(
        run(capsys, "import", name, str(FILES / "meta_ads_export.csv"), "--dry-run", "--json")[1]
    )
    first = preview["changed_rows"][0]
    assert first["before"]["impressions"] == 1204 and first["after"]["impressions"] == 2300
    assert run(capsys, "import", name, str(FILES / "meta_ads_export.csv"), "--replace")[0] == 0
    assert totals(capsys, name) == EXPECTED["meta_ads_export.csv"][1]
    code, _, err = run(capsys, "undo", name, "1")
    assert code == 1 and "undo import 2 first" in err
    assert run(capsys, "undo", name, "2")[0] == 0
    assert totals(capsys, name) == google
    assert run(capsys, "undo", name, "1")[0] == 0
    assert totals(capsys, name) == [(0, 0, 0, 0.0, 0.0, 0)] * 2
    batches = json.loads(run(capsys, "imports", name, "--json")[1])
    assert [(b["status"], b["undone_by"]) for b in batches] == [("undone", "tester")] * 2
    assert run(capsys, "undo", name, "1")[0] == 1  # already undone


def test_new_days_add_to_stored_ones(capsys, tmp_path):
    name = create(capsys, tmp_path)
    run(capsys, "import", name, str(FILES / "google_ads_report.csv"))
    assert run(capsys, "import", name, str(FILES / "utf16_unicode_text.txt"))[0] == 0
    (google_a, _google_b), (u_a, _u_b) = (
        EXPECTED["google_ads_report.csv"][1],
        EXPECTED["utf16_unicode_text.txt"][1],
    )
    got = totals(capsys, name)
    assert got[0][:3] == tuple(x + y for x, y in zip(google_a[:3], u_a[:3], strict=True))
    assert got[1][5] == 3


def test_unknown_arms_are_listed_and_added_only_when_asked(capsys, tmp_path):
    name = create(
        capsys,
        tmp_path,
        TRIAL | {"arms": [*TRIAL["arms"][:1], {"channel": "Email", "creative": "Plain"}]},
    )
    path = str(FILES / "results.xlsx")
    code, out, err = run(capsys, "import", name, path)
    assert code == 1 and "Weibo · Image B" in err and "--add-arms" in err
    code, out, _ = run(capsys, "import", name, path, "--add-arms")
    assert code == 0 and "added arm: Weibo · Image B" in out
    shown = json.loads(run(capsys, "show", name, "--json")[1])
    assert [a["name"] for a in shown["arms"]] == [
        "WeChat · Video A",
        "Email · Plain",
        "Weibo · Image B",
    ]
    assert shown["arms"][2]["totals"]["clicks"] == 57
    assert run(capsys, "undo", name, "1")[0] == 0
    shown = json.loads(run(capsys, "show", name, "--json")[1])
    assert [a["name"] for a in shown["arms"]] == ["WeChat · Video A", "Email · Plain"]


def test_map_and_channel_flags(capsys, tmp_path):
    name = create(capsys, tmp_path)
    data = (
        "Day,Ad,Impressions,Clicks,Orders,Cost,Sales\n"
        "2026-09-05,Video A,100,10,1,5.00,20.00\n"
        "2026-09-05,Video B,90,9,0,4.00,0\n"
    )
    path = write(tmp_path, "one_platform.csv", data)
    code, out, _ = run(
        capsys, "import", name, path, "--channel", "WeChat", "--map", "creative=Ad", "--add-arms"
    )
    assert code == 0, out
    shown = json.loads(run(capsys, "show", name, "--json")[1])
    assert shown["arms"][0]["totals"]["revenue"] == 20.0
    assert shown["arms"][2]["name"] == "WeChat · Video B"


def test_ambiguous_dates_ask_and_date_format_answers(capsys, tmp_path):
    name = create(capsys, tmp_path)
    data = (
        "date,channel,creative,impressions,clicks,conversions,spend,revenue\n"
        "01/09/2026,WeChat,Video A,100,10,1,5,20\n"
        "02/09/2026,WeChat,Video A,100,10,1,5,20\n"
    )
    path = write(tmp_path, "dates.csv", data)
    code, _, err = run(capsys, "import", name, path)
    assert code == 1 and "could be day/month or month/day" in err
    assert run(capsys, "import", name, path, "--date-format", "%d/%m/%Y")[0] == 0
    shown = json.loads(run(capsys, "show", name, "--json")[1])
    assert shown["arms"][0]["totals"]["days"] == 2


def test_duplicate_arm_days_in_one_file_are_refused(capsys, tmp_path):
    name = create(capsys, tmp_path)
    data = (
        "date,channel,creative,impressions,clicks,conversions,spend,revenue\n"
        "2026-09-01,WeChat,Video A,100,10,1,5,20\n"
        "2026-09-01,wechat ,video a,100,10,1,5,20\n"
    )
    code, _, err = run(capsys, "import", name, write(tmp_path, "dup.csv", data))
    assert code == 1 and "row 3" in err and "also on row 2" in err


def test_missing_columns_say_what_the_header_has(capsys, tmp_path):
    name = create(capsys, tmp_path)
    path = write(tmp_path, "x.csv", "when,where\n2026-09-01,here\n")
    code, _, err = run(capsys, "import", name, path)
    assert code == 1
    assert "no column found for date, channel, creative" in err and "'when', 'where'" in err


def test_mixed_decimal_marks_ask_for_decimal(capsys, tmp_path):
    name = create(capsys, tmp_path)
    data = (
        "date,channel,creative,impressions,clicks,conversions,spend,revenue\n"
        '2026-09-01,WeChat,Video A,100,10,1,"1,234.50",20\n'
        '2026-09-02,WeChat,Video A,100,10,1,"12,5",20\n'
    )
    code, _, err = run(capsys, "import", name, write(tmp_path, "mixed.csv", data))
    assert code == 1 and "--decimal" in err


# -- the store underneath, on SQLite and PostgreSQL -------------------------------------------


def rows(day=date(2026, 9, 1), clicks=10, arm=("WeChat", "Video A")):
    return [ResultRow(arm[0], arm[1], day, 100, clicks, 1, 5.0, 20.0, row=2)]


def test_commit_is_one_transaction(store):
    trial = store.create_trial(make_spec())
    bad = [*rows(), ResultRow("Weibo", "Image B", date(2026, 9, 1), 10, 20, 0, 1.0, 0.0, row=3)]
    with pytest.raises(UserError, match="nothing was written"):  # clicks > impressions
        store.commit_results(trial.id, bad, kind="daily")
    assert store.daily_results(trial.id) == []
    assert store.import_batches(trial.id) == []


def test_replace_keeps_the_old_row_until_undone(store):
    trial = store.create_trial(make_spec())
    first = store.commit_results(trial.id, rows(clicks=10), kind="daily")
    with pytest.raises(OverlapError) as e:
        store.commit_results(trial.id, rows(clicks=12), kind="daily")
    assert e.value.plan.counts()["changed"] == 1
    second = store.commit_results(trial.id, rows(clicks=12), kind="daily", replace=True)
    assert [r.clicks for r in store.daily_results(trial.id)] == [12]
    store.undo_batch(trial.id, second.batch.id)
    restored = store.daily_results(trial.id)
    assert [(r.clicks, r.import_batch_id) for r in restored] == [(10, first.batch.id)]


def test_manual_edits_are_batches_that_can_remove_rows(store):
    trial = store.create_trial(
        make_spec(arms=(ArmSpec("WeChat", "Video A"), ArmSpec("Weibo", "Image B")))
    )
    store.commit_results(trial.id, rows() + rows(day=date(2026, 9, 2)), kind="daily")
    arm_id = trial.arms[0].id
    edit = store.commit_results(
        trial.id, [], kind="manual", replace=True, removals=[(arm_id, date(2026, 9, 2))]
    )
    assert edit.counts["removed"] == 1
    assert [r.day for r in store.daily_results(trial.id)] == [date(2026, 9, 1)]
    store.undo_batch(trial.id, edit.batch.id)
    assert len(store.daily_results(trial.id)) == 2


def test_preview_reads_against_the_trial(store):
    trial = store.create_trial(make_spec())
    data = (FILES / "google_ads_report.csv").read_bytes()
    preview = preview_import(store, trial, data, "g.csv", ImportOptions())
    assert preview.plan.counts()["new"] == 4
    reading = read_daily_file(data, "g.csv", trial, ImportOptions(preset="meta-ads"))
    # Meta's names are not in a Google Ads report; the common names still find the columns.
    assert reading.ok and reading.preset == "meta-ads"
    assert reading.columns.how["spend"] == "auto" and reading.columns.header("spend") == "Cost"
