"""One analysis, one verdict: the same trial shows the same verdict, weakest stage and data
source on the Trial, Results and Recommendations pages and in every report format."""

import html
import io

import openpyxl
import pytest

from inference.funnel.spec import ModelSpec
from tests.app_pages.conftest import open_app, texts
from trials.analysis.result import analyze_trial
from trials.domain.verdicts import VERDICT_LABELS
from trials.reports.contract import analysis_dict
from trials.reports.render import render
from trials.reports.report import build_report

PAGES = ("app_pages/trial.py", "app_pages/results.py", "app_pages/recommendations.py")


@pytest.mark.parametrize("name", ["Search ads headline test", "WeChat vs Weibo launch"])
def test_every_page_and_report_shows_the_same_verdict_stage_and_source(demo, name):
    trial = demo.get_trial(name)
    analysis = analyze_trial(demo, trial, method="mcmc", spec=ModelSpec(), seed=0)
    label = VERDICT_LABELS[analysis.verdict]
    source = analysis.data.summary.sentence
    stages = {d.weak_stage.label for d in analysis.decision.arms if d.weak_stage}
    for page in PAGES:
        shown = texts(open_app(page, trial=trial.id)).replace("\\", "")
        assert label in shown, page
        assert analysis.decision.reason[:60] in shown, page
        assert source[:50] in shown, page
    results = texts(open_app("app_pages/results.py", trial=trial.id)).replace("\\", "")
    for arm in analysis.decision.arms:
        weak = arm.weak_stage
        if weak is not None and weak.ratio < 0.95:
            assert f"{weak.label} is {weak.ratio:.0%}" in results
    report = build_report(trial, analysis_dict(analysis), demo.decisions(trial.id))
    for fmt in ("csv", "md", "html"):
        body = html.unescape(render(report, fmt).decode("utf-8-sig"))
        assert label in body and source[:40] in body, fmt
        assert all(s in body for s in stages), fmt
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    cells = [c for row in book["Verdict"].iter_rows(values_only=True) for c in row if c]
    assert label in cells and source in cells


def test_an_amended_rule_is_shown_with_the_verdict_and_in_the_report(demo):
    from dataclasses import replace

    trial = demo.get_trial("Email subject lines, November")
    spec = replace(trial.spec, decision_rule=replace(trial.spec.decision_rule, min_days=5))
    demo.update_trial(trial.id, spec, [a.id for a in trial.arms], reason="reach is a third")
    trial = demo.get_trial(trial.id)
    assert trial.rule_version == 2
    for page in ("app_pages/results.py", "app_pages/recommendations.py"):
        shown = texts(open_app(page, trial=trial.id)).replace("\\", "")
        assert "The rule was amended after data came in" in shown
        assert "reach is a third" in shown and "(version 2)" in shown
    analysis = analyze_trial(demo, trial, method="mcmc", spec=ModelSpec(), seed=0)
    body = render(build_report(trial, analysis_dict(analysis), []), "md").decode()
    assert "Rule \\(version 2\\)" in body and "reach is a third" in body  # Markdown-escaped
    assert analysis_dict(analysis)["decision"]["rule"]["min_days"] == 5
