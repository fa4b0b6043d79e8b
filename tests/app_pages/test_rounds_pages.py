"""Rounds in the app: *Start next round* on the Trial page, the round picker on Results
and Recommendations, and *Compare rounds*."""

from datetime import date, timedelta

from tests.app_pages.conftest import open_app, texts, widget
from trials.domain import DailyResult
from trials.domain.rounds import NextRound, RoundChanges

TRIAL_PAGE = "app_pages/trial.py"
RESULTS = "app_pages/results.py"
RECOMMENDATIONS = "app_pages/recommendations.py"
NAME = "WeChat vs Weibo launch"
ROUND_2 = date(2026, 11, 23)


def test_start_next_round_from_the_trial_page(demo):
    trial = demo.get_trial(NAME)
    at = open_app(TRIAL_PAGE, trial=trial.id)
    assert any("one round so far" in c.value for c in at.caption)
    widget(at.date_input, "Starts").set_value(ROUND_2)
    widget(at.text_input, "New creative for Weibo · Feed image").set_value("Feed video")
    widget(at.text_input, "Why does the next round start?").set_value("new Weibo content")
    [start] = [b for b in at.button if b.label == "Start next round"]
    start.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    updated = demo.get_trial(trial.id)
    assert updated.current_round == 2
    assert [a.name for a in updated.arms] == ["WeChat · Moments video", "Weibo · Feed video"]
    assert updated.rounds[1].reason == "new Weibo content"
    assert updated.rounds[1].created_by == "tester"
    at = open_app(TRIAL_PAGE, trial=trial.id)
    rounds = next(d.value for d in at.dataframe if "What changed" in d.value.columns)
    assert list(rounds["Round"]) == [1, 2]
    assert rounds["What changed"].iloc[1] == "Weibo · Feed image → Weibo · Feed video"


def test_a_refused_round_says_why_and_changes_nothing(demo):
    trial = demo.get_trial(NAME)
    at = open_app(TRIAL_PAGE, trial=trial.id)
    widget(at.date_input, "Starts").set_value(date(2026, 11, 10))  # inside round 1's data
    widget(at.text_input, "Why does the next round start?").set_value("too early")
    [start] = [b for b in at.button if b.label == "Start next round"]
    start.click().run()
    assert not at.exception
    message = at.error[0].value.replace("\\", "")
    assert "Starts: 2026-11-10 is not after round 1's last day with data" in message
    assert demo.get_trial(trial.id).rounds == ()


def _round_two(store):
    trial = demo_trial = store.get_trial(NAME)
    trial = store.start_round(
        demo_trial.id,
        NextRound(
            start=ROUND_2,
            reason="new Weibo content",
            changes=RoundChanges(replace=(("Weibo · Feed image", "Feed video"),)),
        ),
    )
    rows = [
        DailyResult(arm.id, ROUND_2 + timedelta(days=d), 2500, 30 + 10 * i, 2 + i, 40.0, 200.0)
        for d in range(7)
        for i, arm in enumerate(trial.arms)
    ]
    store.add_results(trial.id, rows, kind="manual")
    return store.get_trial(trial.id)


def test_results_show_the_current_round_compare_it_and_reach_the_earlier_one(demo):
    trial = _round_two(demo)
    at = open_app(RESULTS, trial=trial.id)
    page = texts(at).replace("\\", "")
    assert "Round 2 of 2 (the current round)" in page
    assert "Compare rounds: 1 → 2" in [s.value for s in at.subheader]
    compared = next(d.value for d in at.dataframe if "Chance it improved" in d.value.columns)
    assert "Weibo · Feed image → Weibo · Feed video" in set(compared["Arm"])
    assert set(compared["Stage"]) == {"CTR", "CVR", "order value", "ROAS", "CPA"}
    assert all(v.endswith("%") or v == "—" for v in compared["Chance it improved"])
    # Round 1 one click away: its own arms and dates.
    at = open_app(RESULTS, trial=trial.id, round=1)
    page = texts(at).replace("\\", "")
    assert "Round 1 of 2 (an earlier round)" in page
    assert "Feed video" not in page and "Feed image" in page


def test_recommendations_of_an_earlier_round_write_nothing(demo):
    trial = _round_two(demo)
    at = open_app(RECOMMENDATIONS, trial=trial.id, round=1)
    assert not at.exception
    assert any("an earlier round" in i.value for i in at.info)
    assert "Decision log" not in [s.value for s in at.subheader]


def test_a_round_without_data_points_at_the_earlier_rounds(demo):
    trial = demo.get_trial(NAME)
    demo.start_round(trial.id, NextRound(start=ROUND_2, reason="fresh start"))
    at = open_app(RESULTS, trial=trial.id)
    assert not at.exception
    assert any("Round 2 has no data yet" in i.value for i in at.info)
