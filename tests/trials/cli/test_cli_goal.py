"""``python -m trials plan --goal-conversions N | --goal-revenue R --by DATE``: budget by goal."""

import json

import pytest

from tests.trials.cli.test_cli import run

DEMO = ("demo", "--today", "2026-11-22")
WECHAT = "WeChat vs Weibo launch"
GOAL = ("plan", "--goal-conversions", "60", "--by", "2026-12-21", "--from", "2026-11-23")


def test_mixed_currencies_are_refused_with_the_currencies_listed(capsys):
    run(capsys, *DEMO)
    code, out, err = run(capsys, *GOAL, "--method", "exact")
    assert code == 1 and not out
    assert "different currencies" in err
    for currency in ("CNY", "EUR", "USD"):
        assert currency in err
    assert "--currency" in err
    # Named trials in two currencies are refused too.
    code, _, err = run(
        capsys, *GOAL, "--trial", WECHAT, "--trial", "Search ads headline test", "--method", "exact"
    )
    assert code == 1 and "CNY" in err and "USD" in err


def test_goal_plan_in_one_currency_as_json(capsys):
    run(capsys, *DEMO)
    code, out, err = run(capsys, *GOAL, "--currency", "cny", "--method", "exact", "--json")
    assert code == 0, err
    plan = json.loads(out)
    # Every trial in CNY with data that is not archived: the demo's two running ones.
    assert plan["currency"] == "CNY" and set(plan["trials"]) == {
        WECHAT,
        "Weibo creative fix: WeChat vs Weibo",
    }
    assert plan["goal"] == {
        "metric": "conversions",
        "target": 60.0,
        "by": "2026-12-21",
        "from": "2026-11-23",
        "days": 29,
    }
    assert plan["preview"] is True
    half, most = plan["plans"]
    assert (half["probability"], most["probability"]) == (0.5, 0.8)
    assert half["reachable"] and most["reachable"]
    assert most["total_spend"] > half["total_spend"] > 0
    assert most["p_reached"] >= 0.8
    for level in (half, most):
        arms = level["arms"]
        assert {a["channel"] for a in arms} == {"WeChat", "Weibo"}
        assert sum(a["daily_spend"] for a in arms) == pytest.approx(level["daily_spend"], abs=0.02)
        assert sum(c["spend"] for c in level["channels"]) == pytest.approx(
            level["total_spend"], abs=0.1
        )
        assert "CNY" in level["sentence"]
    assert any("Rates stay as measured" in a for a in plan["assumptions"])


def test_untested_channel_is_planned_from_past_rates(capsys):
    run(capsys, *DEMO)
    code, out, err = run(
        capsys,
        *GOAL,
        "--currency",
        "CNY",
        "--channels",
        "WeChat",
        "Douyin",
        "--method",
        "exact",
        "--json",
    )
    assert code == 0, err
    plan = json.loads(out)
    arms = plan["plans"][0]["arms"]
    assert {(a["channel"], a["basis"]) for a in arms} == {
        ("WeChat", "one spend level so far"),
        ("Douyin", "untested channel"),
    }
    assert any("Douyin has no trial here" in n for n in plan["notes"])


def test_revenue_goal_and_text_output(capsys):
    run(capsys, *DEMO)
    code, out, err = run(
        capsys,
        "plan",
        "--goal-revenue",
        "20,000",
        "--by",
        "2026-12-21",
        "--from",
        "2026-11-23",
        "--trial",
        WECHAT,
        "--method",
        "exact",
    )
    assert code == 0, err
    assert "20,000.00 CNY of revenue by 2026-12-21 with 80% probability" in out
    assert "Assumes:" in out and "Traceback" not in err


def test_a_goal_out_of_reach_says_so(capsys):
    run(capsys, *DEMO)
    # Arms without curves: more than 1,000x today's spend would be needed in one day.
    code, out, err = run(
        capsys,
        "plan",
        "--goal-conversions",
        "1000000",
        "--by",
        "2026-11-23",
        "--from",
        "2026-11-23",
        "--trial",
        WECHAT,
        "--method",
        "exact",
        "--json",
    )
    assert code == 0, err
    plan = json.loads(out)
    for level in plan["plans"]:
        assert not level["reachable"] and level["total_spend"] is None
        assert "not within 1,000× today's daily spend" in level["sentence"]


def test_no_data_at_hand_says_what_is_needed(capsys):
    run(capsys, *DEMO)
    code, out, err = run(
        capsys, *GOAL, "--trial", "Xiaohongshu notes (planned)", "--method", "exact", "--json"
    )
    assert code == 0, err
    plan = json.loads(out)
    assert plan["plans"] == [] and "no chosen arm has both spend and conversions" in plan["reason"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("plan", "--goal-conversions", "100"), "need --by"),
        (
            ("plan", "--goal-conversions", "100", "--goal-revenue", "5", "--by", "2026-12-01"),
            "not allowed with",
        ),
        (
            ("plan", "--goal-conversions", "100", "--by", "2026-12-01", "--lift", "0.1"),
            "does not take --lift",
        ),
        (("plan", "--by", "2026-12-01", "--lift", "0.1", "--arms", "2"), "go with --goal"),
        (("plan", "--daily-budget", "100"), "required: --lift, --arms"),
        (("plan", "--goal-conversions", "0", "--by", "2026-12-01"), "above 0"),
        (("plan", "--goal-conversions", "10", "--by", "1 Dec"), "YYYY-MM-DD"),
    ],
)
def test_malformed_goal_command_lines_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        run(capsys, *argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_by_before_from_is_refused(capsys):
    run(capsys, *DEMO)
    code, _, err = run(
        capsys, "plan", "--goal-conversions", "10", "--by", "2026-11-01", "--from", "2026-11-23"
    )
    assert code == 1 and "before the first day of spending" in err
