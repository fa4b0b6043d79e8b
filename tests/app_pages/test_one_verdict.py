"""One analysis, one verdict: the same trial shows the same verdict, weakest stage and data
source on the Trial, Results and Recommendations pages and in every report format."""

import html
import io

import openpyxl
import pytest

from inference.spec import ModelSpec
from tests.app_pages.conftest import open_app, texts
from trials.analysis import analysis_dict, analyze_trial
from trials.decisions import VERDICT_LABELS
from trials.exports import build_report, render

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
