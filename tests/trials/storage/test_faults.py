"""The store on a faulty database: read-only (reads work, writes are refused and change
nothing), damaged or foreign files, a newer schema, a full disk; each a plain ``UserError``
saying what to do, with no path in the message a browser would show."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import day_rows, make_spec
from tests.faults import damage_table, mark_newer, read_only_copy, tiny_disk
from trials.storage.engine import connect, is_read_only
from trials.storage.faults import (
    DamagedDatabase,
    DatabaseFull,
    DatabaseUnavailable,
    NewerDatabase,
    ReadOnlyDatabase,
    fault_for,
)
from trials.storage.store import TrialStore


@pytest.fixture
def stored(tmp_path) -> Path:
    """An SQLite database with one trial and its data, closed."""
    path = tmp_path / "made" / "trials.sqlite3"
    engine = connect(f"sqlite:///{path}")
    store = TrialStore(engine, actor="tester")
    trial = store.create_trial(make_spec())
    store.add_results(trial.id, day_rows(trial), kind="manual")
    engine.dispose()
    return path


def test_a_read_only_database_reads_and_refuses_writes_plainly(stored, tmp_path):
    with read_only_copy(stored, tmp_path / "ro") as path:
        engine = connect(f"sqlite:///{path}")
        assert is_read_only(engine)
        store = TrialStore(engine, actor="tester")
        [summary] = store.list_trials()
        trial = store.get_trial(summary.trial.id)
        assert summary.days_with_data == 3 and len(store.daily_results(trial.id)) == 6
        with pytest.raises(ReadOnlyDatabase) as refused:
            store.create_trial(make_spec(name="Another"))
        assert "read-only" in str(refused.value) and str(path) not in str(refused.value)
        assert str(path) in refused.value.detail  # the operator learns which file
        with pytest.raises(ReadOnlyDatabase):
            store.add_results(trial.id, day_rows(trial, days=1, start=trial.spec.end), kind="x")
        with pytest.raises(ReadOnlyDatabase):
            store.delete_trial(trial.id)
        assert [s.trial.name for s in store.list_trials()] == [trial.name]
        engine.dispose()


def test_a_read_only_database_with_unmerged_changes_says_so(tmp_path):
    # A writer that stopped without merging its -wal file, on a disk now read-only.
    source = tmp_path / "made"
    source.mkdir()
    path = source / "trials.sqlite3"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    writer.execute("INSERT INTO alembic_version VALUES ('0001')")
    writer.commit()
    with tiny_disk(tmp_path / "ro", 2048) as folder:
        for name in ("trials.sqlite3", "trials.sqlite3-wal"):
            (folder / name).write_bytes((source / name).read_bytes())
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        with pytest.raises(DatabaseUnavailable) as refused:
            connect(f"sqlite:///{folder / 'trials.sqlite3'}")
    writer.close()
    assert "changes not yet merged" in refused.value.detail
    assert "tell whoever runs Channel Trials" in str(refused.value)


@pytest.mark.parametrize(
    "content",
    [b"hello, this is not a database\n" * 200, b"", b"SQLite format 3\x00" + b"\x00" * 200],
    ids=["text", "empty-but-named", "truncated"],
)
def test_a_file_that_is_not_a_database_is_named_as_such(tmp_path, content):
    path = tmp_path / "trials.sqlite3"
    path.write_bytes(content)
    if not content:  # an empty file is a new database, not a damaged one
        TrialStore(connect(f"sqlite:///{path}")).list_trials()
        return
    with pytest.raises(DamagedDatabase) as refused:
        connect(f"sqlite:///{path}")
    assert str(refused.value).startswith("The database is not a Channel Trials database")
    assert refused.value.detail.startswith(
        f"{path} is not a Channel Trials database or is damaged; restore it from a backup"
    )


def test_someone_elses_sqlite_file_is_not_taken_over(tmp_path):
    path = tmp_path / "notes.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(DamagedDatabase):
        connect(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert tables == {"notes"}  # none of our tables built inside it


def test_damage_found_by_a_query_is_named_as_such(stored):
    damage_table(stored, "daily_results")
    store = TrialStore(connect(f"sqlite:///{stored}"))
    with pytest.raises(DamagedDatabase):
        store.list_trials()
    store.engine.dispose()


def test_a_database_from_a_newer_version_asks_for_an_update(db_url):
    engine = connect(db_url)
    mark_newer(engine, "9999")
    engine.dispose()
    with pytest.raises(NewerDatabase) as refused:
        connect(db_url)
    assert str(refused.value).startswith(
        "This database was written by a newer Channel Trials (revision 9999); update the app"
    )


def test_a_full_disk_refuses_the_write_and_keeps_what_was_there(stored, tmp_path):
    with tiny_disk(tmp_path / "small", 320) as folder:
        path = folder / "trials.sqlite3"
        path.write_bytes(stored.read_bytes())
        engine = connect(f"sqlite:///{path}")
        store = TrialStore(engine, actor="tester")
        trial = store.list_trials()[0].trial
        with pytest.raises(DatabaseFull) as refused:
            for i in range(200):  # some kilobytes each, until the disk is full
                store.create_trial(make_spec(name=f"Trial {i} " + "x" * 100, hypothesis="y" * 3000))
        assert "full" in str(refused.value) and str(folder) not in str(refused.value)
        names = [s.trial.name for s in store.list_trials()]
        assert trial.name in names and len(store.daily_results(trial.id)) == 6
        engine.dispose()


class _DriverError(Exception):
    def __init__(self, name=None, sqlstate=None):
        super().__init__("driver says no")
        self.sqlite_errorname = name
        if sqlstate:
            self.sqlstate = sqlstate
        if name is None:
            del self.sqlite_errorname


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (_DriverError("SQLITE_READONLY"), ReadOnlyDatabase),
        (_DriverError("SQLITE_READONLY_DBMOVED"), ReadOnlyDatabase),
        (_DriverError("SQLITE_FULL"), DatabaseFull),
        (_DriverError("SQLITE_NOTADB"), DamagedDatabase),
        (_DriverError("SQLITE_CORRUPT"), DamagedDatabase),
        (_DriverError("SQLITE_IOERR_WRITE"), DatabaseUnavailable),
        (_DriverError(sqlstate="25006"), ReadOnlyDatabase),
        (_DriverError(sqlstate="53100"), DatabaseFull),
        (_DriverError("SQLITE_CONSTRAINT_UNIQUE"), type(None)),
        (_DriverError(sqlstate="23505"), type(None)),
    ],
)
def test_which_driver_errors_are_faults(error, fault):
    assert isinstance(fault_for(error, "db"), fault)
