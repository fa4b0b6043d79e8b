"""``python -m trials segments``: per arm × segment or × ISO week, from an imported file
with a segment column; arm totals unchanged by the split."""

import json

from tests.trials.cli.test_cli import run, write
from tests.trials.ingest.test_imports import TRIAL, create, totals

SPLIT = (
    "Day,Channel,Creative,Region,Impressions,Clicks,Conversions,Spend,Revenue\n"
    "2026-09-06,WeChat,Video A,North,6000,300,15,150,600\n"
    "2026-09-06,WeChat,Video A,South,400,10,1,5,20\n"
    "2026-09-07,WeChat,Video A,North,5000,250,12,140,400\n"
    "2026-09-07,Weibo,Image B,North,9000,200,6,120,300\n"
)
WHOLE = (
    "Day,Channel,Creative,Impressions,Clicks,Conversions,Spend,Revenue\n"
    "2026-09-06,WeChat,Video A,6400,310,16,155,620\n"
    "2026-09-07,WeChat,Video A,5000,250,12,140,400\n"
    "2026-09-07,Weibo,Image B,9000,200,6,120,300\n"
)


def test_segments_by_region_and_by_week(capsys, tmp_path):
    name = create(capsys, tmp_path)
    code, _, err = run(capsys, "import", name, write(tmp_path, "split.csv", SPLIT))
    assert code == 0, err
    code, out, err = run(capsys, "segments", name, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["by"], result["method"], result["currency"]) == ("segment", "exact", "CNY")
    assert result["has_segments"] is True
    units = [(u["arm"], u["segment"], u["spend"], u["revenue"], u["days"]) for u in result["units"]]
    assert units == [
        ("WeChat · Video A", "North", 290.0, 1000.0, 2),
        ("WeChat · Video A", "South", 5.0, 20.0, 1),
        ("Weibo · Image B", "North", 120.0, 300.0, 1),
    ]
    north = result["units"][0]
    assert north["raw_roas"] == round(1000 / 290, 4)
    for metric in ("roas", "cpa", "cvr"):
        assert north[metric]["hdi_low"] < north[metric]["mean"] < north[metric]["hdi_high"]
    code, out, _ = run(capsys, "segments", name, "--by", "week", "--json")
    weeks = json.loads(out)["units"]
    # 2026-09-06 is a Sunday, 09-07 a Monday: two ISO weeks.
    assert [(u["arm"], u["week"], u["week_start"], u["spend"]) for u in weeks] == [
        ("WeChat · Video A", "2026-W36", "2026-08-31", 155.0),
        ("WeChat · Video A", "2026-W37", "2026-09-07", 140.0),
        ("Weibo · Image B", "2026-W37", "2026-09-07", 120.0),
    ]
    code, out, _ = run(capsys, "segments", name)
    assert code == 0 and "spend (CNY)" in out and "South" in out and "pulled toward" in out


def test_the_split_file_totals_exactly_as_the_same_file_unsplit(capsys, tmp_path):
    split = create(capsys, tmp_path)
    run(capsys, "import", split, write(tmp_path, "split.csv", SPLIT))
    whole = create(capsys, tmp_path, TRIAL | {"name": "Whole"})
    run(capsys, "import", whole, write(tmp_path, "whole.csv", WHOLE))
    assert totals(capsys, split) == totals(capsys, whole)
    exact = [
        json.loads(run(capsys, "analyze", t, "--method", "exact", "--json")[1])
        for t in (split, whole)
    ]
    assert exact[0]["arms"] == exact[1]["arms"]
    assert exact[0]["data_digest"] == exact[1]["data_digest"]


def test_unknown_trials_and_trials_without_data(capsys, tmp_path):
    code, _, err = run(capsys, "segments", "No such trial")
    assert code == 1 and "error:" in err and "Traceback" not in err
    name = create(capsys, tmp_path)
    code, out, _ = run(capsys, "segments", name, "--json")
    assert code == 0 and json.loads(out)["units"] == []
