"""Racing processes on SQLite and PostgreSQL: 120 writers on one trial (imports, manual
edits, undos, decisions, UTM rules) and 24 first starts on an empty database. Every racer
either does its write once or is refused with a plain message: no traceback and no
database error text on any stderr, and the final state holds exactly the accepted writes.

Each racer is a process of its own (``tests/trials/storage/racer.py``); all wait for a
line on stdin and are released together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import ROOT, make_spec
from tests.trials.storage import racer
from trials.analysis.demo import load_demo
from trials.domain import ArmSpec, ResultRow
from trials.domain.verdicts import DecisionRecord
from trials.storage import schema
from trials.storage.engine import connect, head_revision, schema_revision
from trials.storage.store import TrialStore

pytestmark = pytest.mark.slow

RAW = (
    "Traceback",
    "sqlite3.",
    "psycopg",
    "IntegrityError",
    "OperationalError",
    "DataError",
    "UniqueViolation",
    "Background on this error",
    "[SQL:",
)
TODAY = "2026-11-28"


def _release(argvs: list[list[str]], env: dict[str, str]) -> list[tuple[int, str, str]]:
    """Start a process per argv, wait until every one is ready, release them together;
    each one's exit code, stdout (after "ready") and stderr."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.trials.storage.racer", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for argv in argvs
    ]
    for process in processes:
        assert process.stdout.readline() == "ready\n"
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in processes:
        out, err = process.communicate()
        results.append((process.returncode, out, err))
    return results


def _env(url: str, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TRIALS_DB", "DATABASE_URL")}
    return env | {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "TRIALS_USER": "starter",
        "TRIALS_DATA_DIR": str(tmp_path / "data"),
    }


def _room_for(url: str, processes: int) -> None:
    if make_url(url).get_backend_name() != "postgresql":
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        limit = int(conn.execute(text("SHOW max_connections")).scalar())
    engine.dispose()
    if limit < processes + 30:
        pytest.skip(f"the PostgreSQL server allows {limit} connections; the race needs more")


def _no_raw_errors(results) -> list[str]:
    return [err for _, _, err in results if any(raw in err for raw in RAW)]


# -- 120 writers on one trial -------------------------------------------------------------


def _race_trial(store):
    """The trial they race on: days 11-20 stored (to edit), days 21-22 stored by the
    import they all undo, and a first decision (to correct)."""
    trial = store.create_trial(
        make_spec(
            name="Race",
            start=racer.START,
            end=racer.START + timedelta(days=29),
            arms=(ArmSpec("WeChat", "Video A"), ArmSpec("Weibo", "Image B")),
        )
    )

    def rows(first, last):
        return [
            ResultRow(
                a.spec.channel,
                a.spec.creative,
                racer.START + timedelta(days=d),
                500,
                20,
                2,
                8.0,
                30.0,
            )
            for d in range(first, last + 1)
            for a in trial.arms
        ]

    store.commit_results(trial.id, rows(10, 19), kind="daily")
    undo = store.commit_results(trial.id, rows(20, 21), kind="daily").batch.id
    first = store.record_decision(trial.id, DecisionRecord(note="first"), {"racer": "setup"})
    return trial, undo, first.id


def test_120_racing_writers_on_one_trial_leave_exactly_the_accepted_writes(db_url, tmp_path):
    _room_for(db_url, racer.RACERS)
    engine = connect(db_url)
    store = TrialStore(engine, actor="setup")
    trial, undo, first = _race_trial(store)
    argvs = [[db_url, str(trial.id), str(undo), str(first), str(i)] for i in range(racer.RACERS)]
    results = _release(argvs, _env(db_url, tmp_path))

    assert _no_raw_errors(results) == []
    outcomes = {}
    for i, (code, out, err) in enumerate(results):
        if code == 0:
            assert err == "", (i, err)
            outcomes[i] = ("ok", json.loads(out))
        else:
            assert code == 1 and out == "" and err.startswith("error: "), (i, code, out, err)
            assert err.count("\n") == 1, (i, err)
            outcomes[i] = ("refused", err)
    counts = Counter(kind for kind, _ in outcomes.values())

    # Imports: per day one batch written; the same numbers after it changed nothing; other
    # numbers were refused (no --replace) and are not stored.
    stored = {(r.arm_id, r.day): r for r in store.daily_results(trial.id)}
    days_written = Counter()
    for i in racer.IMPORTERS:
        day, variant = racer.import_day(i)
        kind, outcome = outcomes[i]
        if kind == "ok":
            days_written[day] += outcome["batch"] is not None
    assert days_written == Counter({racer.START + timedelta(days=d): 1 for d in range(10)})
    for d in range(10):
        day = racer.START + timedelta(days=d)
        racers = [i for i in racer.IMPORTERS if racer.import_day(i)[0] == day]
        [winner] = [i for i in racers if outcomes[i][0] == "ok" and outcomes[i][1]["batch"]]
        variant = racer.import_day(winner)[1]
        for index, arm in enumerate(trial.arms):
            row = stored[arm.id, day]
            expected = racer.import_numbers(variant, index)
            assert (row.impressions, row.clicks, row.conversions, row.spend, row.revenue) == (
                expected
            )
            assert row.import_batch_id == outcomes[winner][1]["batch"]
        for i in racers:
            same = racer.import_day(i)[1] == variant
            assert outcomes[i][0] == ("ok" if same else "refused"), (i, outcomes[i])
            if not same:
                assert "would change numbers already stored" in outcomes[i][1]

    # Too big: refused with the limit, never stored.
    for i in racer.TOO_BIG:
        kind, message = outcomes[i]
        assert kind == "refused" and "is more than the largest accepted" in message
    assert all(r.spend < 10**13 for r in stored.values())

    # Edits: every one accepted, each its own batch; deleted rows gone, edited ones changed.
    for i in racer.EDITORS:
        arm_index, day, delete = racer.edit_cell(i)
        assert outcomes[i][0] == "ok" and outcomes[i][1]["batch"], (i, outcomes[i])
        key = (trial.arms[arm_index].id, day)
        if delete:
            assert key not in stored
        else:
            row = stored[key]
            assert (row.impressions, row.clicks, row.conversions, row.spend, row.revenue) == (
                racer.edit_numbers(i)
            )
            assert row.import_batch_id == outcomes[i][1]["batch"]

    # Undo: once; the others were told it was undone already.
    undone = [i for i in racer.UNDOERS if outcomes[i][0] == "ok"]
    assert len(undone) == 1
    for i in racer.UNDOERS:
        assert i in undone or "was undone already" in outcomes[i][1]
    assert not [key for key in stored if key[1] >= racer.START + timedelta(days=20)]
    batches = {b.id: b for b in store.import_batches(trial.id)}
    assert batches[undo].undone and batches[undo].undone_by == f"racer {undone[0]}"

    # Every stored row is one of the above: 10 imported days, the edited days' rows.
    deleted = sum(racer.edit_cell(i)[2] for i in racer.EDITORS)
    assert len(stored) == 2 * 10 + 2 * 10 - deleted

    # Decisions: every accepted one once; the wrong corrections absent.
    log = store.decisions(trial.id)
    recorded = sorted(e.note for e in log)
    accepted = [*racer.DECIDERS, *racer.CORRECTORS]
    assert recorded == sorted(["first", *(f"racer {i}" for i in accepted)])
    for i in racer.WRONG_CORRECTORS:
        assert outcomes[i][0] == "refused" and "is not in 'Race's log" in outcomes[i][1]
    corrections = [e for e in log if e.corrects is not None]
    assert {e.corrects for e in corrections} == {first} and len(corrections) == 5
    assert {e.id for e in log} == {outcomes[i][1]["entry"] for i in accepted} | {first}

    # UTM rules: all saved.
    assert sorted(r.utm_campaign for r in store.utm_rules(trial.id)) == sorted(
        f"campaign {i}" for i in racer.RULES
    )
    # Batches: the 2 of the setup, one per imported day, one per edit.
    assert len(batches) == 2 + 10 + len(racer.EDITORS)
    print(
        f"\n{engine.dialect.name}: {racer.RACERS} racers, {counts['ok']} accepted, "
        f"{counts['refused']} refused, 0 tracebacks, 0 raw database errors"
    )
    engine.dispose()


# -- 24 first starts ----------------------------------------------------------------------


@pytest.fixture
def fresh_url(db_url, tmp_path):
    """A database nobody has used: a new SQLite file, or a new PostgreSQL database."""
    if make_url(db_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'first-start.sqlite3'}"
        return
    name = f"trials_first_start_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


def test_24_simultaneous_first_starts_migrate_once_and_load_the_demo_once(fresh_url, tmp_path):
    _room_for(fresh_url, 48)
    argvs = [["start", "demo", "--if-empty", "--today", TODAY] for _ in range(24)]
    results = _release(argvs, _env(fresh_url, tmp_path))

    assert _no_raw_errors(results) == []
    assert [(code, err) for code, _, err in results] == [(0, "")] * 24
    loaded = Counter(
        line.removeprefix("loaded demo trial: ")
        for _, out, _ in results
        for line in out.splitlines()
        if line.startswith("loaded demo trial: ")
    )
    engine = connect(fresh_url, migrate_schema=False)
    assert schema_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    store = TrialStore(engine)
    reference = TrialStore(connect(f"sqlite:///{tmp_path / 'reference.sqlite3'}"))
    load_demo(reference, today=date.fromisoformat(TODAY))
    names = sorted(s.trial.name for s in reference.list_trials())
    # Each demo trial loaded once, by one of the starts, with all its data.
    assert sorted(s.trial.name for s in store.list_trials()) == names
    assert loaded == Counter(names)
    for name in names:
        mine, theirs = store.get_trial(name), reference.get_trial(name)
        assert len(store.daily_results(mine.id, None)) == len(
            reference.daily_results(theirs.id, None)
        )
        assert len(store.orders(mine.id)) == len(reference.orders(theirs.id))
        assert len(store.import_batches(mine.id)) == len(reference.import_batches(theirs.id))
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(schema.trials)) == len(names)
    print(f"\n{engine.dialect.name}: 24 first starts, 24 exited 0, demo trials loaded once each")
    engine.dispose()
