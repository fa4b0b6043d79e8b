"""``python -m trials priors``: the learned priors, the back-test, a trial's setting."""

from __future__ import annotations

import json

from tests.trials.cli.test_cli import run


def test_priors_json_per_channel_and_currency(capsys):
    code, _, _ = run(capsys, "priors", "--json")
    assert code == 0
    run(capsys, "demo")
    code, out, _ = run(capsys, "priors", "--json")
    result = json.loads(out)
    assert code == 0 and len(result["trials"]) >= 1
    stages = {(r["channel"], r["stage"]) for r in result["priors"]}
    assert ("WeChat", "cvr") in stages and ("WeChat", "cpc") in stages
    for r in result["priors"]:
        assert r["interval_low"] <= r["mean"] <= r["interval_high"]
        assert (r["currency"] is None) == (r["stage"] in ("ctr", "cvr"))
        if r["stage"] in ("ctr", "cvr"):
            assert r["ess"] > 0
            if r["trials"] < 3:
                assert r["capped"]  # few finished trials of the channel: kept weak
    code, out, _ = run(capsys, "priors", "--json", "--currency", "eur")
    money = {r["currency"] for r in json.loads(out)["priors"] if r["currency"]}
    assert money <= {"EUR"}


def test_priors_table_and_backtest_in_plain_words(capsys):
    run(capsys, "demo")
    code, out, _ = run(capsys, "priors", "--backtest")
    assert code == 0
    assert "conversion rate" in out and "worth (ESS)" in out and "Back-test" in out
    assert "None" not in out and "e-0" not in out


def test_a_trial_opts_in_and_overrides_from_the_command_line(capsys):
    run(capsys, "demo")
    trial = "Search ads headline test"
    code, out, _ = run(capsys, "priors", "--trial", trial, "--json")
    assert code == 0 and json.loads(out)["use_learned"] is False
    code, out, _ = run(
        capsys,
        "priors",
        "--trial",
        trial,
        "--use-learned",
        "on",
        "--override",
        "Google Search/cvr=4%@300",
        "--json",
    )
    setting = json.loads(out)
    assert code == 0 and setting["use_learned"] and setting["created_by"]
    assert setting["overrides"] == [
        {"channel": "Google Search", "stage": "cvr", "mean": 0.04, "strength": 300.0}
    ]
    code, out, _ = run(capsys, "priors", "--trial", trial)
    assert "uses learned priors" in out and "set by hand" in out


def test_a_bad_override_is_refused_with_how_to_write_it(capsys):
    run(capsys, "demo")
    code, _, err = run(capsys, "priors", "--trial", "Search ads headline test", "--override", "x")
    assert code == 1 and "CHANNEL/STAGE=MEAN@STRENGTH" in err and "Traceback" not in err
    code, _, err = run(
        capsys, "priors", "--trial", "Search ads headline test", "--override", "TikTok/cvr=3%@9"
    )
    assert code == 1 and "no channel 'TikTok'" in err and "nothing was saved" in err


def test_plan_from_workspace_asks_for_a_currency_when_trials_use_several(capsys):
    run(capsys, "demo")
    args = ("plan", "--lift", "0.3", "--arms", "2", "--daily-budget", "500", "--from-workspace")
    code, _, err = run(capsys, *args, "--simulations", "50")
    assert code == 1 and "--currency" in err
    code, out, _ = run(capsys, *args, "--currency", "CNY", "--simulations", "50", "--json")
    assert code == 0 and json.loads(out)["inputs"]["cpc"] > 0
