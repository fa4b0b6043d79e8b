"""Migration 0009_segments on SQLite and PostgreSQL: upgrading from 0006 keeps every row
(each without a segment), the unique key gains the segment, SQLite's table copy keeps the
index and the append-only triggers, and downgrading sums segments back into their arm-day."""

from datetime import date

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from trials.domain import ResultRow
from trials.storage.engine import connect, downgrade, head_revision, migrate, schema_revision
from trials.storage.store import TrialStore

BEFORE = "0006_accounts"


def _old_data(engine) -> None:
    """A trial at 0006 with results, a row kept for undo and a decision (plain SQL)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO trials (id, workspace_id, name, hypothesis, primary_metric, "
            "break_even_roas, currency, start_date, end_date, budget_micros, status, "
            "decision_rule, is_demo, created_at, created_by, updated_at, updated_by) VALUES "
            "(1, 1, 'Old', '', 'roas', 2.0, 'CNY', '2026-09-01', '2026-09-30', 0, 'running', "
            "'{}', false, '2026-09-01 00:00:00', 'a', '2026-09-01 00:00:00', 'a')"
        )
        conn.exec_driver_sql(
            "INSERT INTO arms (id, trial_id, position, channel, creative, is_control) VALUES "
            "(1, 1, 0, 'WeChat', 'A', true), (2, 1, 1, 'Weibo', 'B', false)"
        )
        conn.exec_driver_sql(
            # Ids from the sequence (1 and 2: a fresh database), so later batches follow.
            "INSERT INTO import_batches (trial_id, kind, row_count, status, created_at, "
            "created_by) VALUES (1, 'daily', 2, 'committed', '2026-09-02 00:00:00', 'a'), "
            "(1, 'daily', 1, 'committed', '2026-09-03 00:00:00', 'a')"
        )
        conn.exec_driver_sql(
            "INSERT INTO daily_results (trial_id, arm_id, day, source, impressions, clicks, "
            "conversions, spend_micros, revenue_micros, import_batch_id) VALUES "
            "(1, 1, '2026-09-01', 'channel', 100, 10, 1, 5000000, 9000000, 2), "
            "(1, 2, '2026-09-01', 'channel', 200, 20, 2, 6000000, 8000000, 1)"
        )
        conn.exec_driver_sql(
            "INSERT INTO replaced_results (trial_id, arm_id, day, source, impressions, clicks, "
            "conversions, spend_micros, revenue_micros, import_batch_id, replaced_by_batch_id) "
            "VALUES (1, 1, '2026-09-01', 'channel', 90, 9, 1, 4000000, 7000000, 1, 2)"
        )
        conn.exec_driver_sql(
            "INSERT INTO decisions (trial_id, created_at, created_by, summary, note, snapshot) "
            "VALUES (1, '2026-09-04 00:00:00', 'a', '{}', 'kept', '{}')"
        )


def _split_rows() -> list[ResultRow]:
    return [
        ResultRow("WeChat", "A", date(2026, 9, 2), 60, 6, 1, 3.0, 5.0, 2, "Mobile"),
        ResultRow("WeChat", "A", date(2026, 9, 2), 40, 4, 0, 2.0, 0.0, 3, "Desktop"),
    ]


def test_upgrading_from_0006_keeps_the_data_and_downgrading_sums_segments(db_url):
    engine = connect(db_url, migrate_schema=False)
    migrate(engine, BEFORE)
    _old_data(engine)
    migrate(engine)
    assert schema_revision(engine) == head_revision()
    schema = inspect(engine)
    assert "ix_daily_results_import_batch_id" in {
        i["name"] for i in schema.get_indexes("daily_results")
    }
    assert {tuple(u["column_names"]) for u in schema.get_unique_constraints("daily_results")} == {
        ("trial_id", "arm_id", "day", "source", "segment")
    }
    store = TrialStore(engine, actor="tester")
    rows = store.daily_results(1, segments=True)
    assert [(r.arm_id, r.clicks, r.segment, r.import_batch_id) for r in rows] == [
        (1, 10, "", 2),
        (2, 20, "", 1),
    ]
    # The append-only triggers survived SQLite's table copies.
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql("UPDATE decisions SET note = 'changed'")
    # Undo still brings back the row kept at 0006, now without a segment.
    store.undo_batch(1, 2)
    assert [(r.arm_id, r.clicks) for r in store.daily_results(1)] == [(1, 9), (2, 20)]
    store.commit_results(1, _split_rows(), kind="daily")
    before = store.arm_totals(1)
    assert before[1].clicks == 19 and before[1].days == 2
    downgrade(engine, BEFORE)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM daily_results").scalar() == 3
        day2 = conn.exec_driver_sql(
            "SELECT impressions, clicks, conversions, spend_micros, revenue_micros "
            "FROM daily_results WHERE day = '2026-09-02'"
        ).one()
    assert tuple(day2) == (100, 10, 1, 5_000_000, 5_000_000)
    assert "segment" not in {c["name"] for c in inspect(engine).get_columns("daily_results")}
    migrate(engine)
    assert store.arm_totals(1) == before
    engine.dispose()
