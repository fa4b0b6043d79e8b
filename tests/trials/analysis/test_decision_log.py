"""The decision log: append-only entries with frozen evidence, corrections, status."""

import json

import pytest

from tests.conftest import make_spec
from tests.trials.cli.test_cli import run
from tests.trials.ingest.test_imports import FILES, create
from trials.domain import TrialStatus, UserError
from trials.domain.verdicts import DecisionRecord
from trials.reports.contract import evidence_snapshot


def test_entries_are_appended_with_evidence_and_corrections(store):
    trial = store.create_trial(make_spec())
    a, b = (arm.name for arm in trial.arms)
    first = store.record_decision(
        trial.id, DecisionRecord(scale=(a,), stop=(b,), note="clear"), {"data_digest": "d1"}
    )
    assert first.summary["scale"] == [a] and first.created_by == "tester"
    assert store.get_trial(trial.id).spec.status is TrialStatus.DRAFT
    fix = store.record_decision(
        trial.id,
        DecisionRecord(keep_testing=(a, b), corrects=first.id, mark_decided=True),
        {"data_digest": "d2"},
    )
    log = store.decisions(trial.id)
    assert [e.id for e in log] == [first.id, fix.id]
    assert log[0].corrected_by == (fix.id,) and log[1].corrects == first.id
    assert log[0].snapshot == {"data_digest": "d1"}  # the old evidence is kept as it was
    assert store.get_trial(trial.id).spec.status is TrialStatus.DECIDED
    assert not hasattr(store, "update_decision") and not hasattr(store, "delete_decision")


def test_bad_decisions_are_refused_and_write_nothing(store):
    trial = store.create_trial(make_spec())
    other = store.create_trial(make_spec(name="Other"))
    a = trial.arms[0].name
    with pytest.raises(UserError, match="not an arm"):
        store.record_decision(trial.id, DecisionRecord(scale=("Nope · X",)), {})
    with pytest.raises(UserError, match="one action only"):
        store.record_decision(trial.id, DecisionRecord(scale=(a,), stop=(a,)), {})
    with pytest.raises(UserError, match="empty decision"):
        store.record_decision(trial.id, DecisionRecord(), {})
    elsewhere = store.record_decision(other.id, DecisionRecord(note="n"), {})
    with pytest.raises(UserError, match="not in"):
        store.record_decision(trial.id, DecisionRecord(note="x", corrects=elsewhere.id), {})
    assert store.decisions(trial.id) == []


def test_snapshot_keeps_what_the_decision_rested_on():
    analysis = {
        "method": "mcmc",
        "seed": 3,
        "data_digest": "abc",
        "arms": [{"channel": "WeChat", "creative": "A", "p_best": 0.9, "response_curve": {}}],
    }
    snap = evidence_snapshot(analysis)
    assert snap["app_version"] and snap["seed"] == 3 and snap["data_digest"] == "abc"
    assert snap["arms"][0]["p_best"] == 0.9 and "response_curve" not in snap["arms"][0]


def test_decide_and_decisions_through_the_cli(capsys, tmp_path):
    name = create(capsys, tmp_path)
    run(capsys, "import", name, str(FILES / "google_ads_report.csv"))
    code, out, err = run(
        capsys,
        "decide",
        name,
        "--scale",
        "WeChat/Video A",
        "--stop",
        "Weibo · Image B",
        "--budget-change",
        "WeChat 100 → 150 a day",
        "--note",
        "<script>x</script>",
        "--mark-decided",
        "--json",
    )
    assert code == 0, err
    entry = json.loads(out)
    assert entry["scale"] == ["WeChat · Video A"] and entry["stop"] == ["Weibo · Image B"]
    assert entry["note"] == "<script>x</script>"
    snap = entry["snapshot"]
    assert snap["method"] == "mcmc" and len(snap["data_digest"]) == 64
    assert [a["creative"] for a in snap["arms"]] == ["Video A", "Image B"]
    assert "recommendation" in snap["arms"][0]
    assert json.loads(run(capsys, "show", name, "--json")[1])["status"] == "decided"
    run(
        capsys,
        "decide",
        name,
        "--keep-testing",
        "WeChat/Video A",
        "--corrects",
        "1",
    )
    log = json.loads(run(capsys, "decisions", name, "--json")[1])
    assert [(e["id"], e["corrects"], e["corrected_by"]) for e in log] == [
        (1, None, [2]),
        (2, 1, []),
    ]
    code, _, err = run(capsys, "decide", name, "--scale", "Email/Plain")
    assert code == 1 and "no such arm" in err
    _, out, _ = run(capsys, "decisions", name)
    assert "#2" in out and "corrects #1" in out


def test_a_snapshot_carries_the_verdict_and_the_rule_it_was_judged_by(capsys, tmp_path):
    import json

    from tests.trials.cli.test_cli import run
    from tests.trials.ingest.test_imports import FILES, create

    name = create(capsys, tmp_path)
    run(capsys, "import", name, str(FILES / "google_ads_report.csv"))
    code, _, err = run(capsys, "amend", name, "--min-days", "2", "--reason", "short test")
    assert code == 0, err
    code, out, err = run(capsys, "decide", name, "--keep-testing", "WeChat · Video A", "--json")
    assert code == 0, err
    decision = json.loads(out)["snapshot"]["decision"]
    assert decision["rule"]["min_days"] == 2 and decision["rule_version"] == 2
    assert decision["verdict"] in ("scale", "keep_testing", "equal", "stop_all")
