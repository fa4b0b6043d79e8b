"""``python -m trials scale-plan``: write a plan down, show it, replace it only with a
reason, stop it with who and why; refusals change nothing."""

import json

import pytest

from tests.trials.cli.test_cli import run
from trials.cli import scale

TRIAL = "WeChat vs Weibo launch"
ARM = "WeChat/Moments video"
_FITS: dict = {}


@pytest.fixture
def demo(capsys, monkeypatch):
    assert run(capsys, "demo", "--today", "2026-11-22")[0] == 0
    real = scale._analysis

    def once(store, trial, seed):
        # The demo's data are the same in every test: fit them once for the module.
        key = (trial.name, seed)
        if key not in _FITS:
            _FITS[key] = real(store, trial, seed)
        return _FITS[key]

    monkeypatch.setattr(scale, "_analysis", once)


def _json(capsys, *argv):
    code, out, err = run(capsys, "scale-plan", TRIAL, "--arm", ARM, *argv, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


def _refused(capsys, *argv) -> str:
    code, out, err = run(capsys, "scale-plan", TRIAL, "--arm", ARM, *argv)
    assert code == 1 and out == ""
    return err


def test_a_plan_is_written_shown_replaced_with_a_reason_and_stopped(capsys, demo):
    made = _json(capsys, "--start", "2026-11-10")
    plan = made["plan"]
    assert plan["created_by"] == "tester" and plan["status"] == "active"
    assert (plan["step"], plan["step_days"], plan["stop_probability"]) == (0.5, 7, 0.8)
    assert plan["break_even_roas"] == 2.0 and plan["start"] == "2026-11-10"
    assert 30 < plan["base_daily_spend"] < 42  # the demo's 1,000 / 28 a day, ±15 %
    assert made["recommendation"] in ("scale", "keep_testing", "equal", "stop")
    # The demo arm has run at one level: days at step 1 and 2, but no curve yet.
    assert [s["step"] for s in made["steps"]] == [1, 2]
    assert made["steps"][0]["days_with_spend"] == 7
    assert made["proposal"]["kind"] == "hold"  # 5 of 7 days at step 2 (data end 2026-11-21)
    assert made["curve_reason"].startswith("no response curve yet")
    assert made["marginal_roas"] is None and made["p_marginal_below_break_even"] is None
    # Shown again without settings: the same plan, nothing new written.
    assert _json(capsys)["plan"]["id"] == plan["id"]
    err = _refused(capsys, "--stop-probability", "0.6")
    assert "its stop condition was written down first and cannot be changed" in err
    assert _json(capsys)["plan"]["stop_probability"] == 0.8
    new = _json(capsys, "--stop-probability", "90%", "--reason", "the CFO wants surer steps")
    assert new["plan"]["replaces"] == plan["id"] and new["plan"]["stop_probability"] == 0.9
    assert new["plan"]["start"] == "2026-11-10"  # unchanged settings carry over
    assert "--reason" in _refused(capsys, "--stop")
    stopped = _json(capsys, "--stop", "--reason", "stock ran out")
    assert stopped["plan"]["status"] == "stopped"  # its stop condition was not met
    assert stopped["plan"]["ended_by"] == "tester"
    assert stopped["plan"]["end_reason"] == "stock ran out"
    assert stopped["proposal"] == {
        "kind": "ended",
        "text": "The plan is stopped by tester: stock ran out.",
        "next_daily_spend": None,
        "on": None,
    }
    assert "no active scale plan" in _refused(capsys, "--stop", "--reason", "again")


def test_the_text_output_says_the_plan_the_steps_and_the_proposal(capsys, demo):
    code, out, err = run(
        capsys, "scale-plan", TRIAL, "--arm", ARM, "--start", "2026-11-10", "--base-spend", "40"
    )
    assert (code, err) == (0, "")
    assert "40.00 CNY a day, +50% every 7 days; stop stepping when the marginal ROAS" in out
    assert "60.00 CNY" in out  # step 2's plan
    assert "Hold at 60.00 CNY a day: not enough days at this step yet (5 of 7)." in out
    assert "keep_testing" not in out and "None" not in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--step", "5"], "--step: must be between 10% and 200%"),
        (["--step-days", "2"], "--step-days: must be 3 to 60 days"),
        (["--step-days", "x"], "--step-days: 'x' is not a whole number"),
        (["--stop-probability", "1.2"], "--stop-probability: must be between 50% and 99%"),
        (["--base-spend", "-3"], "--base-spend: must be a daily spend above 0"),
        (["--start", "tomorrow"], "--start: 'tomorrow' is not a date"),
        (["--stop", "--step", "0.3", "--reason", "x"], "--stop ends the plan"),
    ],
)
def test_bad_flags_are_refused_with_the_flag_and_nothing_is_written(capsys, demo, argv, words):
    assert words in _refused(capsys, *argv)
    # Nothing was written: there is no plan to stop.
    assert "no active scale plan" in _refused(capsys, "--stop", "--reason", "x")


def test_a_viewer_is_refused_before_any_fit(capsys, demo, add_account, monkeypatch):
    add_account("vera", "viewer")
    monkeypatch.setenv("TRIALS_USER", "vera")
    monkeypatch.setattr(scale, "_analysis", lambda *a: pytest.fail("fitted for a viewer"))
    err = _refused(capsys, "--start", "2026-11-10")
    assert err.startswith("error: vera is a viewer in workspace 'Default' and cannot write scale")
