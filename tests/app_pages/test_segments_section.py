"""The Results page's "By segment and week": per arm × segment (or × ISO week), pooled
toward the arm, money with its currency, rates as percentages; names shown as typed."""

from datetime import date

from tests.app_pages.conftest import open_app, texts, widget
from tests.conftest import make_spec
from trials.domain import ResultRow

PAGE = "app_pages/results.py"


def _segmented_trial(store):
    trial = store.create_trial(make_spec(name="Segments on the page"))
    rows = [
        ResultRow("WeChat", "Video A", date(2026, 9, d), 5000, 200, 8 + d, 90.0, 400.0, 0, seg)
        for d in (6, 7)
        for seg in ("North", "**South**")
    ] + [ResultRow("Weibo", "Image B", date(2026, 9, 7), 4000, 120, 4, 60.0, 150.0, 0, "North")]
    store.commit_results(trial.id, rows, kind="daily")
    return trial


def test_the_section_reads_per_segment_and_per_week(app_store, monkeypatch):
    import ui.fits

    # The section does not wait for the full model; hold it back to keep the test short.
    held = ui.fits.FitOutcome(None, "held back for this test")
    monkeypatch.setattr(ui.fits, "mcmc_fit", lambda *args, **kwargs: held)
    trial = _segmented_trial(app_store)
    at = open_app(PAGE, trial=trial.id)
    assert "By segment and week" in texts(at)
    [table] = [d.value for d in at.dataframe if "Segment" in d.value.columns]
    assert list(table["Segment"]) == ["**South**", "North", "North"]
    assert list(table["Arm"]) == ["WeChat · Video A"] * 2 + ["Weibo · Image B"]
    assert list(table["Spend (CNY)"]) == ["180.00", "180.00", "60.00"]
    assert all(v.endswith("]") and "%" in v for v in table["CVR"])
    assert "Money in CNY" in texts(at)
    widget(at.radio, "Read per").set_value("week").run()
    [weeks] = [d.value for d in at.dataframe if "Week" in d.value.columns]
    assert list(weeks["Week"]) == ["2026-W36", "2026-W37", "2026-W37"]
    assert list(weeks["Days"]) == [1, 1, 1]


def test_the_data_grid_shows_and_saves_segments(app_store):
    from ui.daily_grid import save_grid

    trial = _segmented_trial(app_store)
    at = open_app("app_pages/data.py", trial=trial.id)
    [shown] = [d.value for d in at.dataframe if "Impressions" in d.value.columns]
    assert list(shown.columns[:3]) == ["Arm", "Day", "Segment"] and len(shown) == 5
    # Saved back without the North rows of WeChat: those two go, the rest stay as stored.
    kept = shown[~((shown["Segment"] == "North") & (shown["Arm"] == "WeChat · Video A"))]
    outcome = save_grid(app_store, trial, kept)
    assert outcome.counts == {"new": 0, "changed": 0, "unchanged": 3, "removed": 2}
    assert app_store.arm_totals(trial.id)[trial.arms[0].id].clicks == 400
