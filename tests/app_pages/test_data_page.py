"""The Data page: upload, preview, import, replace, add arms, orders, grid and undo."""

import re
from datetime import date

import pandas as pd
import pytest

from tests.app_pages.conftest import open_app, texts, widget
from tests.conftest import ROOT, make_spec
from trials.analysis.importing import RowsRefused
from ui.daily_grid import save_grid

FILES = ROOT / "tests" / "trials" / "files"


@pytest.fixture
def trial(app_store):
    return app_store.create_trial(make_spec())


def upload(at, label, file_name):
    [uploader] = [u for u in at.file_uploader if u.label.startswith(label)]
    uploader.set_value((file_name, (FILES / file_name).read_bytes(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at, label):
    [found] = [b for b in at.button if b.label == label]
    return found


def test_upload_preview_and_import(app_store, trial):
    at = upload(
        open_app("app_pages/data.py", trial=trial.id), "Daily results", "google_ads_report.csv"
    )
    page = texts(at)
    assert "header on row 3" in page and "Skipped: row 8" in page
    assert widget(at.metric, "New rows").value == "4"
    assert app_store.daily_results(trial.id) == []  # the preview writes nothing
    button(at, "Import 4 rows").click().run()
    assert "Import 1: 4 new" in texts(at)
    totals = app_store.arm_totals(trial.id)
    assert totals[trial.arms[0].id].clicks == 116
    assert [b.file_name for b in app_store.import_batches(trial.id)] == ["google_ads_report.csv"]


def test_bad_rows_are_listed_and_nothing_can_be_imported(app_store, trial):
    at = upload(open_app("app_pages/data.py", trial=trial.id), "Daily results", "bad_rows.csv")
    assert "7 problems" in texts(at)
    problems = at.dataframe[0].value
    assert list(problems["Row"]) == [3, 4, 5, 6, 7, 7, 9]
    assert not [b for b in at.button if b.label.startswith("Import") and not b.disabled]
    assert app_store.import_batches(trial.id) == []


def test_same_file_again_says_so_and_overlap_needs_the_replace_box(app_store, trial):
    at = upload(
        open_app("app_pages/data.py", trial=trial.id), "Daily results", "google_ads_report.csv"
    )
    button(at, "Import 4 rows").click().run()
    at = upload(
        open_app("app_pages/data.py", trial=trial.id), "Daily results", "google_ads_report.csv"
    )
    assert "was imported already" in texts(at)
    assert button(at, "Import 4 rows").disabled
    at = upload(
        open_app("app_pages/data.py", trial=trial.id), "Daily results", "meta_ads_export.csv"
    )
    assert widget(at.metric, "Rows that change stored numbers").value == "4"
    assert button(at, "Import 4 rows").disabled
    widget(at.checkbox, "Replace these 4 stored rows").check().run()
    button(at, "Import 4 rows").click().run()
    assert "4 replaced" in texts(at)
    assert app_store.arm_totals(trial.id)[trial.arms[0].id].impressions == 4400


def test_unknown_arms_can_be_added_in_the_same_step(app_store):
    trial = app_store.create_trial(
        make_spec(arms=(make_spec().arms[0], make_spec().arms[0].__class__("Email", "Plain")))
    )
    at = upload(open_app("app_pages/data.py", trial=trial.id), "Daily results", "results.xlsx")
    assert "Weibo · Image B" in texts(at)
    assert button(at, "Import 4 rows").disabled
    widget(at.checkbox, "Add these 1 arms to the trial").check().run()
    button(at, "Import 4 rows").click().run()
    assert [a.name for a in app_store.get_trial(trial.id).arms][-1] == "Weibo · Image B"


def test_orders_upload_and_reconciliation(app_store, trial):
    at = upload(
        open_app("app_pages/data.py", trial=trial.id), "Daily results", "google_ads_report.csv"
    )
    button(at, "Import 4 rows").click().run()
    at = upload(open_app("app_pages/data.py", trial=trial.id), "Own orders", "own_orders.csv")
    assert "8 new order rows" in texts(at)
    widget(at.checkbox, ACCEPT).check().run()
    button(at, "Import orders").click().run()
    page = texts(at)
    assert "Channel reports vs own orders" in page
    assert "Conversions and revenue: the shop's own orders" in plain(at)
    assert "1 paid order matched no arm" in page
    [frame] = [d.value for d in at.dataframe if "Conversions (orders)" in d.value.columns]
    assert list(frame["Conversions (orders)"]) == [1, 2]
    assert "Left out as cancelled: 1 order" in plain(at)
    assert "1 order outside the trial's dates, not counted." in page
    [shared] = [e for e in at.expander if "claimed by more than one arm" in e.label]
    assert shared.label == "1 order claimed by more than one arm (counted once each)"
    [claims] = [d.value for d in at.dataframe if "Claimed by" in d.value.columns]
    assert list(claims["Order"]) == ["1004"]


ACCEPT = "I understand this changes the conversions the results use"


def plain(at) -> str:
    """The page's text with md()'s backslash escapes taken out."""
    return re.sub(r"\\(.)", r"\1", texts(at))


def test_a_big_change_of_the_conversions_used_needs_its_own_box(app_store, trial):
    at = upload(
        open_app("app_pages/data.py", trial=trial.id), "Daily results", "google_ads_report.csv"
    )
    button(at, "Import 4 rows").click().run()
    at = open_app("app_pages/data.py", trial=trial.id)
    assert "Conversions and revenue: the channels' reports (own orders: none imported)." in plain(
        at
    )
    at = upload(at, "Own orders", "own_orders.csv")
    [effect] = [d.value for d in at.dataframe if "Conversions after" in d.value.columns]
    assert list(effect["Conversions now"]) == [7, 3]
    assert list(effect["Conversions after"]) == [1, 2]
    assert "WeChat · Video A 7 → 1" in plain(at)
    assert button(at, "Import orders").disabled  # AppTest refuses to click it
    assert app_store.orders(trial.id) == []
    widget(at.checkbox, ACCEPT).check().run()
    assert not button(at, "Import orders").disabled
    button(at, "Import orders").click().run()
    assert len(app_store.orders(trial.id)) == 8


def test_orders_outside_the_dates_need_no_box_and_do_not_switch(app_store, trial, tmp_path):
    at = upload(
        open_app("app_pages/data.py", trial=trial.id), "Daily results", "google_ads_report.csv"
    )
    button(at, "Import 4 rows").click().run()
    october = (
        "order id,created at,amount,status,utm_source,utm_content\n"
        "1,2026-10-02,30,paid,wechat,video-a\n"
    )
    at = open_app("app_pages/data.py", trial=trial.id)
    [uploader] = [u for u in at.file_uploader if u.label.startswith("Own orders")]
    uploader.set_value(("oct.csv", october.encode(), "text/csv")).run()
    assert not [c for c in at.checkbox if c.label == ACCEPT]
    button(at, "Import orders").click().run()
    assert "1 own order falls outside the trial's dates" in plain(at)
    assert "Conversions and revenue: the channels' reports" in plain(at)


def test_history_undo(app_store, trial):
    at = upload(
        open_app("app_pages/data.py", trial=trial.id), "Daily results", "google_ads_report.csv"
    )
    button(at, "Import 4 rows").click().run()
    at = open_app("app_pages/data.py", trial=trial.id)
    button(at, "Undo").click().run()
    assert "Undid import 1" in texts(at)
    assert app_store.daily_results(trial.id) == []


def grid(rows):
    return pd.DataFrame(
        rows,
        columns=["Arm", "Day", "Impressions", "Clicks", "Conversions", "Spend", "Revenue"],
    )


def test_grid_saves_as_one_checked_undoable_edit(app_store, trial):
    a, b = (arm.name for arm in trial.arms)
    first = save_grid(
        app_store,
        trial,
        grid(
            [
                [a, date(2026, 9, 1), 100, 10, 1, 5.0, 20.0],
                [b, date(2026, 9, 1), 90, 9, 0, 4.0, 0.0],
            ]
        ),
    )
    assert first.counts["new"] == 2
    with pytest.raises(RowsRefused) as e:
        save_grid(app_store, trial, grid([[a, date(2026, 9, 1), 10, 20, 1, 5.0, None]]))
    assert {(p.row, p.column) for p in e.value.problems} == {(1, "Revenue")}
    edit = save_grid(app_store, trial, grid([[a, date(2026, 9, 1), 100, 12, 1, 5.0, 20.0]]))
    assert edit.counts == {"new": 0, "changed": 1, "unchanged": 0, "removed": 1}
    assert [(r.arm_id, r.clicks) for r in app_store.daily_results(trial.id)] == [
        (trial.arms[0].id, 12)
    ]
    app_store.undo_batch(trial.id, edit.batch.id)
    assert len(app_store.daily_results(trial.id)) == 2


def test_grid_page_shows_the_stored_rows(app_store, trial):
    save_grid(
        app_store, trial, grid([[trial.arms[0].name, date(2026, 9, 1), 100, 10, 1, 5.0, 20.0]])
    )
    at = open_app("app_pages/data.py", trial=trial.id)
    [shown] = [d.value for d in at.dataframe if "Impressions" in d.value.columns]
    assert shown.to_dict("records") == [
        {
            "Arm": trial.arms[0].name,
            "Day": date(2026, 9, 1),
            "Impressions": 100,
            "Clicks": 10,
            "Conversions": 1,
            "Spend": 5.0,
            "Revenue": 20.0,
        }
    ]


def test_columns_can_be_chosen_when_headers_are_unknown(app_store, trial, tmp_path):
    odd = (
        "Tag,Version,When,Seen,Taps,Buys,Paid,Made\nWeChat,Video A,2026-09-03,100,10,1,5.00,20.00\n"
    )
    at = open_app("app_pages/data.py", trial=trial.id)
    [uploader] = [u for u in at.file_uploader if u.label.startswith("Daily results")]
    uploader.set_value(("odd.csv", odd.encode(), "text/csv")).run()
    [problems] = [d.value for d in at.dataframe if "Problem" in d.value.columns]
    assert "no column found for date, channel, impressions" in problems["Problem"][0]
    for field, column in (
        ("Date", 2),
        ("Channel", 0),
        ("Creative", 1),
        ("Impressions", 3),
        ("Clicks", 4),
        ("Conversions", 5),
        ("Spend", 6),
        ("Revenue (optional)", 7),
    ):
        widget(at.selectbox, field).set_value(column)
    at.run()
    assert widget(at.metric, "New rows").value == "1"
    button(at, "Import 1 row").click().run()
    assert app_store.arm_totals(trial.id)[trial.arms[0].id].revenue == 20.0


def _upload_bytes(at, label: str, name: str, data: bytes):
    [uploader] = [u for u in at.file_uploader if u.label.startswith(label)]
    uploader.set_value((name, data, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_preview_names_the_hidden_sheets_it_ignored(app_store, trial):
    from tests.trials.ingest.workbooks import HEADER, workbook

    rows = [[*HEADER, "revenue"], ["2026-09-01", "WeChat", "Video A", 100, 10, 1, 5, 20]]
    data = workbook({"Raw": rows, "_Daily_ <b>": rows}, active="_Daily_ <b>", hidden=["Raw"])
    at = _upload_bytes(
        open_app("app_pages/data.py", trial=trial.id), "Daily results", "w.xlsx", data
    )
    # The sheet's name shows as typed: escaped, never read as Markdown or HTML.
    assert "\\_Daily\\_ \\<b\\>" in texts(at) and "sheet '_Daily_ <b>'" in plain(at)
    [notes] = [d.value for d in at.dataframe if "Problem" in d.value.columns]
    assert list(notes["Problem"]) == ["ignored hidden sheet 'Raw'"]
    assert widget(at.metric, "New rows").value == "1"


def test_the_preview_asks_for_the_decimal_mark_and_the_answer_reads_the_file(app_store, trial):
    text = (
        "date,channel,creative,impressions,clicks,conversions,spend,revenue\n"
        "2026-09-01,WeChat,Video A,100,10,1,1.500,20\n"
    )
    at = _upload_bytes(
        open_app("app_pages/data.py", trial=trial.id), "Daily results", "eu.csv", text.encode()
    )
    assert "Choose the decimal mark above" in texts(at)
    [problems] = [d.value for d in at.dataframe if "Problem" in d.value.columns]
    assert "'1.500' could be 1.5 (decimal point) or 1500" in problems["Problem"][0]
    at.selectbox(key=f"results_{trial.id}_decimal").set_value(",").run()
    assert "Choose the decimal mark above" not in texts(at)
    button(at, "Import 1 row").click().run()
    assert app_store.arm_totals(trial.id)[trial.arms[0].id].spend == 1500.0


def test_the_orders_preview_asks_too(app_store, trial):
    text = "order id,created at,amount,status,utm_source\n1001,2026-09-01 10:00,1.500,paid,wechat\n"
    at = _upload_bytes(
        open_app("app_pages/data.py", trial=trial.id), "Own orders", "o.csv", text.encode()
    )
    assert "Choose the decimal mark above" in texts(at)
    assert not [b for b in at.button if b.label == "Import orders" and not b.disabled]
