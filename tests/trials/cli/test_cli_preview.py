"""The exact path on the command line: a labelled preview that nothing acts on."""

import json

from tests.trials.cli.test_cli import run

TRIAL = "Search ads headline test"


def test_analyze_exact_is_a_labelled_preview_without_a_verdict(capsys):
    run(capsys, "demo", "--today", "2026-11-22")
    code, out, err = run(capsys, "analyze", TRIAL, "--method", "exact", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["method"] == "exact" and result["preview"] is True
    assert "not the verdict" in result["preview_note"]
    decision = result["decision"]
    assert decision["verdict"] == "preview" and not decision["rule_met"]
    assert decision["verdict_label"] == "Preview — not the verdict"
    assert "allocation" not in result
    chances = [a["p_best"] for a in result["arms"]]
    assert abs(sum(chances) - 1) < 1e-5  # exact, not a share of draws
    for arm in result["arms"]:
        assert arm["recommendation"] == "preview" and arm["gates"] == []
        assert arm["recommendation_label"] == "Preview only (no recommendation)"
    code, out, _ = run(capsys, "analyze", TRIAL, "--method", "exact")
    assert code == 0 and "PREVIEW: Preview — not the verdict" in out
    assert "VERDICT" not in out and "KEEP TESTING" not in out and "SCALE" not in out


def test_analyze_exact_refuses_a_budget_split(capsys):
    run(capsys, "demo", "--today", "2026-11-22")
    code, out, err = run(capsys, "analyze", TRIAL, "--method", "exact", "--budget", "1000")
    assert code == 1 and out == ""
    assert "budget split needs the full model" in err


def test_decide_exact_refuses_and_records_nothing(capsys):
    run(capsys, "demo", "--today", "2026-11-22")
    before = json.loads(run(capsys, "show", TRIAL, "--json")[1])
    code, out, err = run(
        capsys,
        "decide",
        TRIAL,
        "--method",
        "exact",
        "--keep-testing",
        before["arms"][0]["name"],
        "--mark-decided",
    )
    assert code == 1 and out == ""
    assert "the exact path is a preview, not evidence" in err and "Nothing was recorded" in err
    assert json.loads(run(capsys, "decisions", TRIAL, "--json")[1]) == []
    assert json.loads(run(capsys, "show", TRIAL, "--json")[1])["status"] == before["status"]


def test_report_exact_refuses_and_writes_nothing(capsys, tmp_path):
    run(capsys, "demo", "--today", "2026-11-22")
    target = tmp_path / "r.md"
    code, _, err = run(
        capsys, "report", TRIAL, "--format", "md", "-o", str(target), "--method", "exact"
    )
    assert code == 1 and "reports always use the full model" in err
    assert not target.exists()


def test_the_evidence_and_report_builders_refuse_a_preview():
    import pytest

    from trials.domain import UserError
    from trials.reports.contract import evidence_snapshot
    from trials.reports.report import build_report

    with pytest.raises(UserError, match="exact preview"):
        evidence_snapshot({"preview": True, "arms": []})
    with pytest.raises(UserError, match="exact preview"):
        build_report(None, {"preview": True, "arms": []}, [])
