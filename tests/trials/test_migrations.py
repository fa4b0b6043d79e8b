from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tests.conftest import make_spec
from trials.db import (
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
from trials.schema import metadata
from trials.store import TrialStore

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


def test_every_migration_file_is_in_the_chain():
    script = ScriptDirectory.from_config(_alembic_config(None))
    files = {p.stem.split("_")[0] for p in (MIGRATIONS / "versions").glob("*.py")}
    assert files == {rev.revision for rev in script.walk_revisions()}


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
