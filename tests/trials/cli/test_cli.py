"""The CLI as a user drives it: JSON shapes, exit codes, messages on stderr."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from trials.cli import main
from trials.storage.engine import head_revision

TRIAL_JSON = {
    "name": "Douyin hooks",
    "hypothesis": "A question in the first two seconds holds viewers.",
    "primary_metric": "roas",
    "break_even_roas": 2.2,
    "currency": "CNY",
    "start": "2026-12-01",
    "end": "2026-12-21",
    "budget": 3000,
    "arms": [
        {"channel": "Douyin", "creative": "Question hook", "control": True, "budget_share": 0.5},
        {"channel": "Douyin", "creative": "Product-first hook"},
    ],
}

TRIAL_TOML = """
name = "Weibo vs WeChat 2"
primary_metric = "cpa"
gross_margin = 0.4
currency = "cny"
start = 2026-12-01
end = 2026-12-14
budget = 2000

[decision_rule]
min_days = 10

[[arms]]
channel = "Weibo"
creative = "图文 A"

[[arms]]
channel = "WeChat"
creative = "视频 B"
control = true
"""


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


def test_demo_then_list_json_lists_the_demo_trials(capsys):
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "loaded demo trial" in out
    code, out, _ = run(capsys, "list", "--json")
    listed = json.loads(out)
    assert code == 0 and len(listed) >= 3
    assert all(t["is_demo"] for t in listed)
    assert set(listed[0]) >= {"id", "name", "status", "arms", "days_with_data", "spend", "budget"}
    code, out, _ = run(capsys, "demo")
    assert "already there" in out
    assert len(json.loads(run(capsys, "list", "--json")[1])) == len(listed)


def test_demo_if_empty_leaves_a_used_workspace_alone(capsys, tmp_path):
    run(capsys, "create", "--from-file", write(tmp_path, "t.json", TRIAL_JSON))
    code, out, _ = run(capsys, "demo", "--if-empty")
    assert code == 0 and "no demo data loaded" in out
    assert len(json.loads(run(capsys, "list", "--json")[1])) == 1


def test_create_from_json_then_show_by_name_and_id(capsys, tmp_path):
    code, out, err = run(capsys, "create", "--from-file", write(tmp_path, "t.json", TRIAL_JSON))
    assert code == 0, err
    assert "created trial 'Douyin hooks'" in out
    code, out, _ = run(capsys, "show", "Douyin hooks", "--json")
    shown = json.loads(out)
    assert code == 0
    for key in ("name", "hypothesis", "primary_metric", "break_even_roas", "currency", "budget"):
        assert shown[key] == TRIAL_JSON[key]
    assert (shown["start"], shown["end"], shown["status"]) == ("2026-12-01", "2026-12-21", "draft")
    assert [(a["channel"], a["creative"], a["control"]) for a in shown["arms"]] == [
        ("Douyin", "Question hook", True),
        ("Douyin", "Product-first hook", False),
    ]
    assert shown["arms"][1]["planned_share"] == 0.5
    zeros = {"impressions": 0, "clicks": 0, "conversions": 0, "spend": 0, "revenue": 0, "days": 0}
    assert all(a["totals"] == zeros for a in shown["arms"])
    assert json.loads(run(capsys, "show", str(shown["id"]), "--json")[1]) == shown


def test_create_from_toml_with_margin_and_unicode(capsys, tmp_path):
    code, _, err = run(capsys, "create", "--from-file", write(tmp_path, "t.toml", TRIAL_TOML))
    assert code == 0, err
    shown = json.loads(run(capsys, "show", "Weibo vs WeChat 2", "--json")[1])
    assert shown["break_even_roas"] == pytest.approx(2.5)
    assert shown["currency"] == "CNY"
    assert shown["decision_rule"]["min_days"] == 10
    assert [a["creative"] for a in shown["arms"]] == ["图文 A", "视频 B"]


def test_show_totals_match_the_stored_days(capsys):
    run(capsys, "demo", "--today", "2026-11-22")
    shown = json.loads(run(capsys, "show", "WeChat vs Weibo launch", "--json")[1])
    assert all(a["totals"]["days"] == 28 for a in shown["arms"])
    assert all(a["totals"]["clicks"] <= a["totals"]["impressions"] for a in shown["arms"])


def test_duplicate_name_is_refused_clearly(capsys, tmp_path):
    path = write(tmp_path, "t.json", TRIAL_JSON)
    run(capsys, "create", "--from-file", path)
    code, out, err = run(capsys, "create", "--from-file", path)
    assert code == 1 and out == ""
    assert "name: a trial named 'Douyin hooks' already exists" in err


def test_invalid_file_lists_every_problem_and_saves_nothing(capsys, tmp_path):
    bad = TRIAL_JSON | {"end": "2026-11-01", "budget": -1, "arms": [{"channel": "X"}]}
    code, _, err = run(capsys, "create", "--from-file", write(tmp_path, "bad.json", bad))
    assert code == 1
    assert "bad.json" in err
    for expected in (
        "end: is before the start date",
        "budget: must be 0 or more",
        "arms[0].creative",
    ):
        assert expected in err
    assert json.loads(run(capsys, "list", "--json")[1]) == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("t.json", "{not json", "line 1, column 2"),
        ("t.toml", "name = ", "t.toml"),
        ("t.yaml", "name: x", "give a .json or .toml file"),
        ("t.json", "[1, 2]", "expected one trial"),
    ],
)
def test_unreadable_files_say_why(capsys, tmp_path, name, content, message):
    code, _, err = run(capsys, "create", "--from-file", write(tmp_path, name, content))
    assert code == 1 and message in err


def test_missing_file_and_unknown_trial(capsys, tmp_path):
    code, _, err = run(capsys, "create", "--from-file", str(tmp_path / "nope.json"))
    assert code == 1 and "no such file" in err
    code, _, err = run(capsys, "show", "Nope", "--json")
    assert code == 1 and "no trial 'Nope'" in err


def test_archive_and_delete(capsys, tmp_path):
    run(capsys, "demo")
    code, out, _ = run(capsys, "archive", "Search ads headline test")
    assert code == 0 and "archived" in out
    listed = json.loads(run(capsys, "list", "--json", "--status", "archived")[1])
    assert "Search ads headline test" in [t["name"] for t in listed]
    assert {t["status"] for t in listed} == {"archived"}
    run(capsys, "create", "--from-file", write(tmp_path, "t.json", TRIAL_JSON))
    assert run(capsys, "delete", "--all-demo")[0] == 0
    names = {t["name"] for t in json.loads(run(capsys, "list", "--json")[1])}
    assert names == {"Douyin hooks"} | _demo_with_a_record()
    assert run(capsys, "delete", "Douyin hooks")[0] == 0  # no results yet, so deletable


def test_migrate_reports_the_revision(capsys):
    code, out, _ = run(capsys, "migrate")
    assert code == 0 and f"schema revision {head_revision()}" in out


def test_no_command_prints_help_and_fails(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "usage" in err


def _module(*argv, env=None):
    return subprocess.run(
        [sys.executable, "-m", "trials", *argv],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_python_dash_m_runs_and_user_errors_have_no_traceback(tmp_path):
    done = _module("show", "missing trial")
    assert done.returncode == 1
    assert done.stderr.startswith("error: no trial 'missing trial'")
    assert "Traceback" not in done.stderr
    bad_usage = _module("list", "--status", "paused")
    assert bad_usage.returncode == 2 and "invalid choice" in bad_usage.stderr


def test_database_url_points_the_cli_elsewhere(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    assert _module("demo", env={"DATABASE_URL": url}).returncode == 0
    assert (tmp_path / "elsewhere.sqlite3").exists()
    # A new database has no accounts: demo made the local demo administrator.
    listed = json.loads(_module("list", "--json", "--as", "demo", env={"DATABASE_URL": url}).stdout)
    assert len(listed) >= 3
    assert json.loads(_module("list", "--json").stdout) == []  # TRIALS_DB untouched


def test_list_and_show_do_not_import_the_modelling_stack():
    code = (
        "import sys; from trials.cli import main; main(['demo']); main(['list']); "
        "main(['show', '1']); "
        "heavy = [m for m in ('pymc', 'pytensor', 'arviz', 'nutpie', 'numba', 'streamlit') "
        "if m in sys.modules]; "
        "print(heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_analyze_json_has_every_promised_field(capsys):
    run(capsys, "demo", "--today", "2026-11-22")
    code, out, err = run(
        capsys, "analyze", "Search ads headline test", "--json", "--method", "exact"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["method"] == "exact" and len(result["arms"]) == 3
    for arm in result["arms"]:
        assert {"channel", "creative", "totals"} <= set(arm)
        for metric in ("ctr", "cvr", "revenue_per_conversion", "roas", "cpa"):
            assert set(arm[metric]) >= {"mean", "hdi_low", "hdi_high"}
            assert arm[metric]["hdi_low"] <= arm[metric]["mean"] <= arm[metric]["hdi_high"]
    decision = result["decision"]
    assert result["preview"] is True and result["preview_note"].startswith("Preview")
    assert decision["verdict"] == "preview" and decision["rule_met"] is False
    assert decision["reason"] and decision["rule"]["min_days"] == 7
    assert {"verdict_label", "winner_threshold", "progress", "rule_version"} <= set(decision)
    assert result["source"]["sentence"].startswith("Conversions and revenue")
    for arm in result["arms"]:
        assert "weakest_stage" in arm and arm["recommendation_label"]
    assert set(result["diagnostics"]) >= {
        "r_hat_max",
        "ess_bulk_min",
        "ess_tail_min",
        "divergences",
        "reliable",
        "reasons",
    }


def test_analyze_mcmc_is_reproducible_and_reliable_on_the_demo(capsys):
    run(capsys, "demo", "--today", "2026-11-22")
    outputs = []
    for _ in range(2):
        code, out, err = run(capsys, "analyze", "WeChat vs Weibo launch", "--json", "--seed", "5")
        assert code == 0, err
        result = json.loads(out)
        result.pop("seconds")
        outputs.append(result)
    assert outputs[0] == outputs[1]
    d = outputs[0]["diagnostics"]
    assert d["reliable"], d["reasons"]
    assert d["r_hat_max"] <= 1.01 and d["ess_bulk_min"] >= 400 and d["divergences"] == 0
    wechat, weibo = outputs[0]["arms"]
    # Raw CVR 10/187 vs 11/615: the posterior keeps WeChat's conversion lead.
    assert wechat["cvr"]["mean"] > weibo["cvr"]["mean"]


def test_analyze_a_trial_without_data_is_neutral_not_an_error(capsys):
    run(capsys, "demo", "--today", "2026-11-22")
    code, out, _ = run(capsys, "analyze", "Xiaohongshu notes (planned)", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["diagnostics"]["reliable"] is False
    assert result["diagnostics"]["reasons"] == ["no data yet"]
    assert result["arms"][0]["roas"] == {
        "mean": None,
        "hdi_low": None,
        "hdi_high": None,
        "reason": "no spend yet",
    }
    assert result["arms"][0]["ctr"]["reason"] == "no impressions yet"


def test_analyze_human_output_and_unknown_trial(capsys):
    run(capsys, "demo", "--today", "2026-11-22")
    code, out, _ = run(capsys, "analyze", "Email subject lines, November", "--method", "exact")
    assert code == 0 and "Urgency: 48 hours only" in out and "94% HDI" in out
    code, _, err = run(capsys, "analyze", "nope")
    assert code == 1 and "no trial 'nope'" in err


def test_delete_refuses_a_trial_with_own_orders_and_all_demo_names_what_it_keeps(capsys, tmp_path):
    from trials.cli.common import open_store
    from trials.domain.verdicts import DecisionRecord

    run(capsys, "create", "--from-file", write(tmp_path, "t.json", TRIAL_JSON))
    orders = (
        "order_id,time,amount,status,utm_source,utm_content\n"
        "1001,2026-12-02 10:00,88,paid,douyin,question-hook\n"
    )
    assert run(capsys, "orders", TRIAL_JSON["name"], write(tmp_path, "o.csv", orders))[0] == 0
    code, _, err = run(capsys, "delete", TRIAL_JSON["name"])
    assert code == 1 and "has 1 own order; archive it instead" in err
    assert "Traceback" not in err
    assert [t["name"] for t in json.loads(run(capsys, "list", "--json")[1])] == [TRIAL_JSON["name"]]

    run(capsys, "demo")
    store = open_store()
    demo = store.get_trial("WeChat vs Weibo launch")
    store.record_decision(demo.id, DecisionRecord(note="scale WeChat"), {"method": "mcmc"})
    code, out, _ = run(capsys, "delete", "--all-demo")
    assert code == 0
    assert "kept demo trial 'WeChat vs Weibo launch': " in out and "1 recorded decision" in out
    names = {t["name"] for t in json.loads(run(capsys, "list", "--json")[1])}
    assert names == {TRIAL_JSON["name"], "WeChat vs Weibo launch"} | _demo_with_a_record()
    for name in _demo_with_a_record():  # the demo's own decisions and scale plan
        assert f"kept demo trial '{name}': " in out


def _demo_with_a_record() -> set[str]:
    """The demo trials that come with a recorded decision or a scale plan: logs are never
    deleted, so ``delete --all-demo`` keeps them."""
    from datetime import date

    from trials.analysis.demo import demo_trials

    kept = {d.spec.name for d in demo_trials(date.today()) if d.decision or d.scale}
    assert kept  # the demo shows decisions
    return kept


def test_create_refuses_is_demo_and_saves_nothing(capsys, tmp_path):
    code, _, err = run(
        capsys, "create", "--from-file", write(tmp_path, "t.json", TRIAL_JSON | {"is_demo": True})
    )
    assert code == 1
    assert "  - is_demo: demo trials come only from the demo loader" in err
    assert json.loads(run(capsys, "list", "--json")[1]) == []
