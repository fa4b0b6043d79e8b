from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect

from tests.conftest import make_spec
from trials.domain import DecisionRule
from trials.storage.engine import (
    MIGRATIONS,
    _alembic_config,
    connect,
    database_url,
    describe,
    downgrade,
    head_revision,
    migrate,
    schema_revision,
)
from trials.storage.schema import metadata
from trials.storage.store import TrialStore

HEAD = head_revision()


def test_migrations_build_exactly_the_declared_schema(engine):
    assert schema_revision(engine) == HEAD
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_migrating_twice_changes_nothing(engine, store):
    trial = store.create_trial(make_spec())
    migrate(engine)
    assert store.get_trial(trial.id).spec == trial.spec


def test_downgrade_to_nothing_and_back(db_url):
    engine = connect(db_url)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert {"trials", "arms", "daily_results", "import_batches", "decisions"} <= set(
        inspect(engine).get_table_names()
    )
    assert TrialStore(engine).is_empty()
    engine.dispose()


def test_a_first_migration_that_fails_half_way_leaves_the_file_as_it_was(tmp_path):
    # The whole upgrade is one transaction (SQLite too): a failure at the fourth revision
    # leaves no half-built schema that a second process would plan its own steps from.
    url = f"sqlite:///{tmp_path / 'half.sqlite3'}"
    engine = connect(url, migrate_schema=False)

    @event.listens_for(engine, "before_cursor_execute")
    def _fail_at_the_append_only_triggers(conn, cursor, statement, *args):
        if statement.startswith("CREATE TRIGGER decisions_no_update"):
            raise RuntimeError("the disk went away")

    with pytest.raises(RuntimeError, match="disk went away"):
        migrate(engine)
    event.remove(engine, "before_cursor_execute", _fail_at_the_append_only_triggers)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert schema_revision(engine) is None
    migrate(engine)
    assert schema_revision(engine) == HEAD
    engine.dispose()


def test_every_migration_file_is_in_the_chain():
    script = ScriptDirectory.from_config(_alembic_config(None))
    files = {p.name for p in (MIGRATIONS / "versions").glob("*.py")}
    chain = list(script.walk_revisions())
    assert files == {Path(rev.path).name for rev in chain}
    # Each file is named after its revision (the early ones by their number alone).
    for rev in chain:
        assert Path(rev.path).stem.startswith(rev.revision), rev.path


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_long_busy_timeout(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 15_000


def test_database_url_precedence(tmp_path):
    env = {"DATABASE_URL": "postgres://u:secret@db/trials", "TRIALS_DB": "/x/y.sqlite3"}
    assert database_url(env) == "postgresql+psycopg://u:secret@db/trials"
    assert "secret" not in describe(database_url(env))
    assert database_url({"TRIALS_DB": str(tmp_path / "a.db")}) == f"sqlite:///{tmp_path / 'a.db'}"
    assert database_url({"TRIALS_DATA_DIR": str(tmp_path)}) == (
        f"sqlite:///{tmp_path / 'trials.sqlite3'}"
    )


def test_default_database_lives_in_a_data_directory_that_is_created(tmp_path, monkeypatch):
    monkeypatch.delenv("TRIALS_DB")
    monkeypatch.setenv("TRIALS_DATA_DIR", str(tmp_path / "nested" / "data"))
    engine = connect()
    assert (tmp_path / "nested" / "data" / "trials.sqlite3").exists()
    engine.dispose()


def test_upgrading_from_0001_keeps_trials_arms_and_results(tmp_path):
    engine = connect(f"sqlite:///{tmp_path / 'old.sqlite3'}", migrate_schema=False)
    migrate(engine, "0001")
    # Write through plain SQL: today's store knows columns 0001 lacks.
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO trials (id, workspace_id, name, hypothesis, primary_metric, "
            "break_even_roas, currency, start_date, end_date, budget_micros, status, "
            "decision_rule, is_demo, created_at, created_by, updated_at, updated_by) VALUES "
            "(1, 1, 'Old', '', 'roas', 2.0, 'CNY', '2026-09-01', '2026-09-30', 0, 'running', "
            "'{}', 0, '2026-09-01 00:00:00', 'a', '2026-09-01 00:00:00', 'a')"
        )
        conn.exec_driver_sql(
            "INSERT INTO arms (id, trial_id, position, channel, creative, is_control) VALUES "
            "(1, 1, 0, 'WeChat', 'A', 1), (2, 1, 1, 'Weibo', 'B', 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO daily_results (trial_id, arm_id, day, source, impressions, clicks, "
            "conversions, spend_micros, revenue_micros) VALUES "
            "(1, 1, '2026-09-01', 'channel', 100, 10, 1, 5000000, 9000000)"
        )
    migrate(engine)
    store = TrialStore(engine)
    trial = store.get_trial("Old")
    assert [a.name for a in trial.arms] == ["WeChat · A", "Weibo · B"]
    assert trial.spec.attribution_rule == "last_touch"
    assert store.arm_totals(trial.id)[1].revenue == 9.0
    downgrade(engine, "0001")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM daily_results").scalar() == 1
    engine.dispose()


def test_upgrading_from_0002_adds_amendments_and_keeps_the_data(db_url):
    engine = connect(db_url, migrate_schema=False)
    migrate(engine, "0002")
    assert "amendments" not in inspect(engine).get_table_names()
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
            "INSERT INTO daily_results (trial_id, arm_id, day, source, impressions, clicks, "
            "conversions, spend_micros, revenue_micros) VALUES "
            "(1, 1, '2026-09-01', 'channel', 100, 10, 1, 5000000, 9000000)"
        )
    migrate(engine)
    assert schema_revision(engine) == HEAD
    store = TrialStore(engine, actor="alice")
    trial = store.get_trial("Old")
    assert trial.rule_version == 1 and store.amendments(trial.id) == []
    assert store.arm_totals(trial.id)[1].revenue == 9.0
    rule = DecisionRule(min_days=3)
    amended = store.update_trial(
        trial.id, trial.spec.with_changes(decision_rule=rule), [1, 2], reason="low volume"
    )
    assert amended.rule_version == 2
    downgrade(engine, "0002")
    assert "amendments" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM daily_results").scalar() == 1
    engine.dispose()


def test_upgrading_to_touch_keys_keeps_orders_recognised_and_downgrading_restores_touches(
    db_url,
):
    from datetime import datetime

    from sqlalchemy import insert

    from trials.domain import OrderRow
    from trials.storage.rows import order_values
    from trials.storage.schema import orders

    engine = connect(db_url, migrate_schema=False)
    migrate(engine, "0004_append_only_log")
    order = OrderRow("A-1", datetime(2026, 9, 2, 10), 88.0, "paid", utm_source="WeChat")
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
        # The orders table is as it was at 0004 but for what ``touch`` holds.
        conn.execute(insert(orders).values(order_values(1, None, order) | {"touch": order.touch}))
    migrate(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT touch FROM orders").scalar() == order.touch_key
    store = TrialStore(engine, actor="tester")
    # The stored order is the same order: importing it again changes nothing.
    assert store.commit_orders(1, [order]).changed_nothing
    downgrade(engine, "0004_append_only_log")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT touch FROM orders").scalar() == order.touch
    engine.dispose()
