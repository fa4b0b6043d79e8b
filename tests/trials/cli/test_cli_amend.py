"""``python -m trials amend`` and the amendments ``show`` reports."""

import json

import pytest

from tests.trials.cli.test_cli import TRIAL_JSON, run, write

TRIAL = "WeChat vs Weibo launch"


@pytest.fixture
def demo(capsys):
    assert run(capsys, "demo", "--today", "2026-11-22")[0] == 0


def _show(capsys, trial=TRIAL):
    code, out, _ = run(capsys, "show", trial, "--json")
    assert code == 0
    return json.loads(out)


def test_amend_changes_the_rule_and_says_what_changed(capsys, demo, monkeypatch, add_account):
    add_account("alice", "editor")
    monkeypatch.setenv("TRIALS_USER", "alice")
    code, out, err = run(
        capsys, "amend", TRIAL, "--min-days", "3", "--probability", "80%", "--reason", "low reach"
    )
    assert (code, err) == (0, "")
    assert out.strip() == (
        f"amended '{TRIAL}' (rule version 2): minimum days 7 → 3; probability 95% → 80%; "
        "by alice: low reach"
    )
    shown = _show(capsys)
    assert shown["decision_rule"]["min_days"] == 3
    assert shown["decision_rule"]["probability_threshold"] == 0.8
    assert shown["rule_version"] == 2
    [amendment] = shown["amendments"]
    assert amendment["before"] == {
        "decision_rule.min_days": 7,
        "decision_rule.probability_threshold": 0.95,
    }
    assert amendment["after"] == {
        "decision_rule.min_days": 3,
        "decision_rule.probability_threshold": 0.8,
    }
    assert amendment["created_by"] == "alice" and amendment["reason"] == "low reach"
    assert amendment["created_at"].endswith("+00:00")
    code, out, _ = run(capsys, "show", TRIAL)
    assert "rule version 2" in out
    assert "alice: minimum days 7 → 3, probability 95% → 80% — reason: low reach" in out


def test_amend_json_is_the_amendment_with_the_rule_version(capsys, demo):
    run(capsys, "amend", TRIAL, "--expected-loss", "0.02", "--reason", "first")
    code, out, _ = run(
        capsys, "amend", TRIAL, "--min-conversions", "10", "--reason", "second", "--json"
    )
    data = json.loads(out)
    assert code == 0
    assert set(data) == {
        "id",
        "trial_id",
        "created_at",
        "created_by",
        "reason",
        "before",
        "after",
        "rule_version",
    }
    assert data["rule_version"] == 3 and data["created_by"] == "tester"
    assert data["before"] == {"decision_rule.min_conversions_per_arm": 25}
    shown = _show(capsys)
    assert [a["reason"] for a in shown["amendments"]] == ["first", "second"]
    assert shown["amendments"][1] == {k: v for k, v in data.items() if k != "rule_version"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--probability", "1.5"], "--probability: must be between 0.5 and 1"),
        (["--probability", "lots"], "--probability: 'lots' is not a number"),
        (["--min-days", "0"], "--min-days: must be a whole number of days"),
        (["--min-days", "2.5"], "--min-days: '2.5' is not a whole number"),
        (["--expected-loss", "0"], "--expected-loss: must be a share between 0 and 1"),
        ([], "nothing to amend: give one or more of --min-days"),
        (["--min-days", "7"], "already has these values"),
    ],
)
def test_bad_amendments_name_the_flag_and_store_nothing(capsys, demo, argv, message):
    before = _show(capsys)
    code, out, err = run(capsys, "amend", TRIAL, *argv, "--reason", "why not")
    assert code == 1 and out == ""
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err
    after = _show(capsys)
    assert after["decision_rule"] == before["decision_rule"] and after["amendments"] == []


def test_the_reason_is_required_and_not_blank(capsys, demo):
    with pytest.raises(SystemExit) as caught:
        run(capsys, "amend", TRIAL, "--min-days", "3")
    assert caught.value.code == 2 and "--reason" in capsys.readouterr().err
    code, _, err = run(capsys, "amend", TRIAL, "--min-days", "3", "--reason", "  ")
    assert code == 1 and "--reason is empty" in err
    assert _show(capsys)["amendments"] == []


def test_a_trial_without_data_can_be_amended_and_it_is_recorded(capsys, tmp_path):
    run(capsys, "create", "--from-file", write(tmp_path, "t.json", TRIAL_JSON))
    shown = _show(capsys, "Douyin hooks")
    assert (shown["amendments"], shown["rule_version"]) == ([], 1)
    code, out, _ = run(capsys, "amend", "Douyin hooks", "--min-days", "10", "--reason", "slow")
    assert code == 0 and "(rule version 2): minimum days 7 → 10" in out
    assert len(_show(capsys, "Douyin hooks")["amendments"]) == 1
    code, out, _ = run(capsys, "show", "Douyin hooks")
    assert "amendments" in out and "reason: slow" in out
