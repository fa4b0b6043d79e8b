"""``python -m trials round``, ``analyze --round`` and ``compare-rounds``."""

import json

import pytest

from tests.trials.cli.test_cli import run, write

TRIAL = "WeChat vs Weibo launch"


@pytest.fixture
def demo(capsys):
    assert run(capsys, "demo", "--today", "2026-11-22")[0] == 0


def _round_2(capsys, *extra):
    return run(
        capsys,
        "round",
        TRIAL,
        "--start",
        "2026-11-23",
        "--replace-creative",
        "Weibo · Feed image=Feed video",
        "--budget",
        "1500",
        "--reason",
        "new Weibo content",
        *extra,
    )


def test_round_starts_the_next_round_and_says_what_changed(capsys, demo):
    code, out, err = _round_2(capsys)
    assert (code, err) == (0, "")
    assert "round 2 starts 2026-11-23 and ends 2026-12-20, budget 1,500.00 CNY" in out
    assert "round 1 ends 2026-11-21" in out
    assert "Weibo · Feed image → Weibo · Feed video" in out
    code, out, _ = run(capsys, "show", TRIAL, "--json")
    shown = json.loads(out)
    assert shown["round"] == 2
    assert [r["number"] for r in shown["rounds"]] == [1, 2]
    assert shown["rounds"][1]["replaced"] == [
        {"before": "Weibo · Feed image", "after": "Weibo · Feed video"}
    ]
    assert shown["rounds"][1]["reason"] == "new Weibo content"
    assert shown["rounds"][0]["end"] == "2026-11-21"
    assert [a["creative"] for a in shown["arms"]] == ["Moments video", "Feed video"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--start", "2026-11-20"], "not after round 1's last day with data (2026-11-21)"),
        (["--start", "someday"], "is not a date"),
        (["--start", "2026-11-23", "--replace-creative", "Weibo Feed image"], "Old creative"),
        (["--start", "2026-11-23", "--drop-arm", "Weibo/Feed image"], "at least two"),
    ],
)
def test_a_refused_round_says_why_and_changes_nothing(capsys, demo, argv, message):
    before = run(capsys, "show", TRIAL, "--json")[1]
    code, _, err = run(capsys, "round", TRIAL, *argv, "--reason", "x")
    assert code == 1 and message in err and "Traceback" not in err
    assert run(capsys, "show", TRIAL, "--json")[1] == before


def test_analyze_reads_a_round_and_compare_rounds_reads_the_change(capsys, demo, tmp_path):
    assert _round_2(capsys)[0] == 0
    rows = ["date,channel,creative,impressions,clicks,conversions,spend,revenue"]
    for day in range(23, 28):
        rows.append(f"2026-11-{day},WeChat,Moments video,600,7,1,36,90")
        rows.append(f"2026-11-{day},Weibo,Feed video,2400,25,2,36,160")
    path = write(tmp_path, "round2.csv", "\n".join(rows) + "\n")
    code, out, err = run(capsys, "import", TRIAL, path)
    assert code == 0, err
    code, out, _ = run(capsys, "analyze", TRIAL, "--method", "exact", "--json")
    current = json.loads(out)
    assert (current["round"], current["rounds"]) == (2, 2)
    assert [a["totals"]["days"] for a in current["arms"]] == [5, 5]
    code, out, _ = run(capsys, "analyze", TRIAL, "--round", "1", "--method", "exact", "--json")
    first = json.loads(out)
    assert first["round"] == 1 and [a["creative"] for a in first["arms"]] == [
        "Moments video",
        "Feed image",
    ]
    assert [a["totals"]["days"] for a in first["arms"]] == [28, 28]
    code, _, err = run(capsys, "analyze", TRIAL, "--round", "3")
    assert code == 1 and "no round 3" in err

    code, out, err = run(capsys, "compare-rounds", TRIAL, "--method", "exact", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["before"], data["after"]) == (1, 2)
    kinds = {(a["before"], a["after"]): a["kind"] for a in data["arms"]}
    assert kinds == {
        ("WeChat · Moments video", "WeChat · Moments video"): "same",
        ("Weibo · Feed image", "Weibo · Feed video"): "replaced",
    }
    weibo = next(a for a in data["arms"] if a["kind"] == "replaced")
    stages = {s["stage"]: s for s in weibo["stages"]}
    assert set(stages) == {"ctr", "cvr", "revenue_per_conversion", "roas", "cpa"}
    assert 0 <= stages["cvr"]["p_improved"] <= 1
    code, out, _ = run(capsys, "compare-rounds", TRIAL, "--method", "exact")
    assert "round 1 → round 2" in out and "P(improved)" in out and "Feed video" in out
