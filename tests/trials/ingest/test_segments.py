"""Segments in imports: an optional column (segment, audience, customer group, region,
device, placement, 人群, 地区, 设备, 版位) keys rows by channel, creative, day and segment;
without it, an arm's second row on a day is refused as before; duplicates are refused
naming file, rows and columns; the store keeps segments through replace, undo and edits,
and never lets an arm-day hold rows both with and without a segment."""

from datetime import date

import pytest

from tests.conftest import make_spec
from trials.analysis.importing import preview_import, save_edited_rows
from trials.domain import ResultRow, UserError, merge_segments
from trials.domain.imports import OverlapError
from trials.ingest.columns import DAILY_FIELDS, map_columns
from trials.ingest.daily import read_daily_file
from trials.ingest.reading import ImportOptions

HEADER = "date,channel,creative,{seg}impressions,clicks,conversions,spend,revenue\n"
SPLIT = HEADER.format(seg="Device,") + (
    "2026-09-01,WeChat,Video A,Mobile,600,30,3,15,60\n"
    "2026-09-01,WeChat,Video A,Desktop,400,10,1,5,20\n"
    "2026-09-01,Weibo,Image B,Mobile,900,20,2,12,30\n"
    "2026-09-02,WeChat,Video A,Mobile,500,25,2,14,40\n"
)


def read(store, text, name="seg.csv", **options):
    trial = store.get_trial("Spring social test")
    return read_daily_file(text.encode(), name, trial, ImportOptions(**options))


def commit_import(store, trial, data, name, options, replace=False):
    """Read ``data`` as a file and commit its rows (the store's refusals as they are)."""
    reading = read_daily_file(data, name, trial, options)
    assert reading.ok, reading.errors
    return store.commit_results(
        trial.id, reading.rows, kind="daily", file_name=name, replace=replace
    )


@pytest.fixture
def trial(store):
    return store.create_trial(make_spec())


@pytest.mark.parametrize(
    "header",
    [
        "segment",
        "Segment",
        "audience",
        "Customer group",
        "region",
        "Device",
        "placement",
        "人群",
        "地区",
        "设备",
        "版位",
    ],
)
def test_every_name_of_a_segment_column_is_recognised(header):
    row = ["日期", "渠道", "内容版本", "曝光量", "点击量", "转化数", "花费", "收入", header]
    mapped = map_columns(row, DAILY_FIELDS)
    assert mapped.as_dict()["segment"] == header
    assert mapped.how["segment"] == "auto"


def test_two_kinds_of_breakdown_ask_which_is_the_segment():
    row = ["date", "channel", "creative", "region", "device", "clicks"]
    mapped = map_columns(row, DAILY_FIELDS)
    assert "segment" not in mapped.columns and mapped.ambiguous["segment"] == (3, 4)
    chosen = map_columns(row, DAILY_FIELDS, overrides={"segment": "device"})
    assert chosen.header("segment") == "device"


def test_rows_are_keyed_by_segment_when_the_file_has_one(store, trial):
    reading = read(store, SPLIT)
    assert reading.ok, reading.errors
    assert reading.columns.header("segment") == "Device"
    assert [(r.creative, r.day.day, r.segment) for r in reading.rows] == [
        ("Video A", 1, "Mobile"),
        ("Video A", 1, "Desktop"),
        ("Image B", 1, "Mobile"),
        ("Video A", 2, "Mobile"),
    ]


def test_without_the_column_rows_read_exactly_as_before(store, trial):
    text = HEADER.format(seg="") + "2026-09-01,WeChat,Video A,600,30,3,15,60\n"
    reading = read(store, text)
    assert reading.ok and "segment" not in reading.columns.columns
    assert reading.rows == (
        ResultRow("WeChat", "Video A", date(2026, 9, 1), 600, 30, 3, 15.0, 60.0, row=2),
    )


def test_a_breakdown_without_a_segment_column_is_refused_and_says_how_to_keep_it(store, trial):
    text = HEADER.format(seg="") + (
        "2026-09-01,WeChat,Video A,600,30,3,15,60\n2026-09-01,WeChat,Video A,400,10,1,5,20\n"
    )
    reading = read(store, text)
    assert not reading.ok and reading.rows[1:] == ()
    (problem,) = reading.errors
    assert (problem.file, problem.row, problem.column) == ("seg.csv", 3, "date")
    assert "also on row 2" in problem.message and "segment" in problem.message


def test_the_same_key_twice_is_refused_naming_file_rows_and_columns(store, trial):
    text = SPLIT + "2026-09-01,wechat , video a, mobile ,1,1,0,1,0\n"
    reading = read(store, text)
    (problem,) = reading.errors
    assert (problem.file, problem.row, problem.column) == ("seg.csv", 6, "Device")
    assert "also on row 2" in problem.message
    assert "'channel', 'creative', 'date', 'Device'" in problem.message


def test_segments_are_stored_summed_for_the_arm_and_kept_through_replace_and_undo(store, trial):
    first = commit_import(store, trial, SPLIT.encode(), "seg.csv", ImportOptions())
    assert first.counts["new"] == 4
    by_segment = store.daily_results(trial.id, segments=True)
    assert sorted(r.segment for r in by_segment) == ["Desktop", "Mobile", "Mobile", "Mobile"]
    arm_level = store.daily_results(trial.id)
    wechat = trial.arms[0].id
    day1 = next(r for r in arm_level if r.arm_id == wechat and r.day == date(2026, 9, 1))
    assert (day1.impressions, day1.clicks, day1.spend, day1.segment) == (1000, 40, 20.0, "")
    assert store.arm_totals(trial.id)[wechat].days == 2
    # The same file again changes nothing; a changed segment needs --replace, then undoes.
    again = commit_import(store, trial, SPLIT.encode(), "seg.csv", ImportOptions())
    assert again.changed_nothing
    changed = SPLIT.replace("Desktop,400,10,1,5,20", "Desktop,400,12,1,5,20")
    with pytest.raises(OverlapError):
        commit_import(store, trial, changed.encode(), "seg2.csv", ImportOptions())
    second = commit_import(
        store, trial, changed.encode(), "seg2.csv", ImportOptions(), replace=True
    )
    assert second.counts == {"new": 0, "changed": 1, "unchanged": 3, "removed": 0}
    assert store.arm_totals(trial.id)[wechat].clicks == 67
    store.undo_batch(trial.id, second.batch.id)
    assert store.arm_totals(trial.id)[wechat].clicks == 65
    assert len(store.daily_results(trial.id, segments=True)) == 4


def test_an_arm_day_never_holds_rows_both_with_and_without_a_segment(store, trial):
    whole = HEADER.format(seg="") + "2026-09-01,WeChat,Video A,1000,40,4,20,80\n"
    commit_import(store, trial, whole.encode(), "whole.csv", ImportOptions())
    with pytest.raises(UserError, match="both without a segment and by segment") as e:
        commit_import(store, trial, SPLIT.encode(), "seg.csv", ImportOptions(), replace=True)
    assert "WeChat · Video A on 2026-09-01" in str(e.value) and "rows 2, 3" in str(e.value)
    assert len(store.daily_results(trial.id, segments=True)) == 1
    preview = preview_import(store, trial, SPLIT.encode(), "seg.csv", ImportOptions())
    assert preview.plan is None and "counted twice" in preview.reading.errors[-1].message
    # A blank segment cell beside named ones on one arm-day is refused the same way.
    mixed = HEADER.format(seg="segment,") + (
        "2026-09-03,WeChat,Video A,,600,30,3,15,60\n2026-09-03,WeChat,Video A,EU,1,1,0,1,0\n"
    )
    with pytest.raises(UserError, match="both without a segment"):
        commit_import(store, trial, mixed.encode(), "mixed.csv", ImportOptions())


def test_editing_rows_by_hand_keeps_and_removes_single_segments(store, trial):
    commit_import(store, trial, SPLIT.encode(), "seg.csv", ImportOptions())
    names = {a.id: a.name for a in trial.arms}
    rows = [
        {
            "arm": names[r.arm_id],
            "day": r.day,
            "segment": r.segment,
            "impressions": r.impressions,
            "clicks": r.clicks,
            "conversions": r.conversions,
            "spend": r.spend,
            "revenue": r.revenue,
        }
        for r in store.daily_results(trial.id, segments=True)
        if r.segment != "Desktop"
    ]
    outcome = save_edited_rows(store, trial, rows)
    assert outcome.counts["removed"] == 1 and outcome.counts["unchanged"] == 3
    assert "Desktop" not in {r.segment for r in store.daily_results(trial.id, segments=True)}
    store.undo_batch(trial.id, outcome.batch.id)
    assert len(store.daily_results(trial.id, segments=True)) == 4


def test_merge_segments_sums_an_arm_day_and_leaves_whole_rows_alone(store, trial):
    commit_import(store, trial, SPLIT.encode(), "seg.csv", ImportOptions())
    rows = store.daily_results(trial.id, segments=True)
    merged = merge_segments(rows)
    assert len(merged) == 3 and all(r.segment == "" for r in merged)
    assert sum(r.spend for r in merged) == sum(r.spend for r in rows)
    assert merge_segments(merged) == merged
