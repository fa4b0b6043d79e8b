"""Writers that race on one trial queue instead of colliding, on SQLite and PostgreSQL:
each racing write is either done once or refused with a plain message, never a database
error. (The slow tier races 120 processes: test_racing.py.)"""

import threading
import time
from datetime import date

import pytest
from sqlalchemy import insert, text

from tests.conftest import make_spec
from trials.domain import ResultRow, TrialValidationError, UserError
from trials.domain.imports import OverlapError
from trials.domain.verdicts import DecisionRecord
from trials.storage import schema
from trials.storage.store import TrialStore

RACERS = 8


def race(engine, work):
    """Run ``work(store, i)`` in RACERS threads released together, each with a store of
    its own; the outcome of each: ("ok", value) or ("refused", error)."""
    gate = threading.Barrier(RACERS)
    outcomes: list = [None] * RACERS

    def run(i):
        store = TrialStore(engine, actor=f"racer {i}")
        gate.wait()
        try:
            outcomes[i] = ("ok", work(store, i))
        except UserError as e:
            outcomes[i] = ("refused", e)
        except Exception as e:
            outcomes[i] = ("crashed", e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [o for o in outcomes if o[0] == "crashed"] == []
    return outcomes


def _row(day=date(2026, 9, 1), clicks=10):
    return [ResultRow("WeChat", "Video A", day, 100, clicks, 1, 5.0, 20.0, row=2)]


def test_racing_creates_of_one_name_make_one_trial(store, engine):
    outcomes = race(
        engine, lambda s, i: s.create_trial(make_spec(name="Same NAME" if i % 2 else "same name"))
    )
    made = [o for kind, o in outcomes if kind == "ok"]
    refused = [o for kind, o in outcomes if kind == "refused"]
    assert len(made) == 1 and len(refused) == RACERS - 1
    for error in refused:
        assert isinstance(error, TrialValidationError)
        assert error.for_field("name")[0].endswith("already exists; choose another name")
    assert len(store.list_trials()) == 1


def test_racing_undos_of_one_import_undo_it_once(store, engine):
    trial = store.create_trial(make_spec())
    store.commit_results(trial.id, _row(clicks=10), kind="daily")
    second = store.commit_results(trial.id, _row(clicks=12), kind="daily", replace=True)
    outcomes = race(engine, lambda s, i: s.undo_batch(trial.id, second.batch.id))
    assert [kind for kind, _ in outcomes].count("ok") == 1
    for kind, error in outcomes:
        assert kind == "ok" or "was undone already" in str(error)
    assert [r.clicks for r in store.daily_results(trial.id)] == [10]


def test_racing_imports_of_one_day_write_it_once(store, engine):
    trial = store.create_trial(make_spec())
    # Half bring the same numbers, half other numbers: the first to write wins; the
    # same numbers after it change nothing; other numbers are refused (no --replace).
    outcomes = race(
        engine, lambda s, i: s.commit_results(trial.id, _row(clicks=10 + i % 2), kind="daily")
    )
    written = [o for kind, o in outcomes if kind == "ok" and o.batch is not None]
    assert len(written) == 1
    [stored] = store.daily_results(trial.id)
    for kind, outcome in outcomes:
        if kind == "refused":
            assert isinstance(outcome, OverlapError)
        elif outcome.batch is None:
            assert outcome.counts["unchanged"] == 1
    winner = stored.clicks
    assert sum(1 for kind, _ in outcomes if kind == "refused") == RACERS // 2
    assert stored.import_batch_id == written[0].batch.id and winner in (10, 11)


def test_racing_decisions_are_all_recorded_once(store, engine):
    trial = store.create_trial(make_spec())
    outcomes = race(
        engine,
        lambda s, i: s.record_decision(trial.id, DecisionRecord(note=f"note {i}"), {"i": i}),
    )
    assert all(kind == "ok" for kind, _ in outcomes)
    log = store.decisions(trial.id)
    assert sorted(e.note for e in log) == sorted(f"note {i}" for i in range(RACERS))
    assert {e.created_by for e in log} == {f"racer {i}" for i in range(RACERS)}


def test_a_write_the_database_still_refuses_is_a_plain_message(store, engine):
    trial = store.create_trial(make_spec())
    arm = trial.arms[0]
    with pytest.raises(UserError) as refused, store.trials.writing() as conn:
        conn.execute(
            insert(schema.arms).values(
                trial_id=trial.id, position=9, channel=arm.spec.channel, creative=arm.spec.creative
            )
        )
    message = str(refused.value)
    assert message.startswith("the database refused the change: it conflicts with what is")
    assert "UNIQUE" not in message and "duplicate key" not in message


def test_on_postgresql_a_writer_waits_for_the_trials_lock_then_sees_what_was_written(store, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes its one write lock as each writer begins")
    trial = store.create_trial(make_spec())
    other = TrialStore(engine, actor="other")
    outcome = {}

    def import_the_same_day():
        try:
            outcome["value"] = other.commit_results(trial.id, _row(clicks=11), kind="daily")
        except Exception as e:
            outcome["value"] = e

    with store.trials.writing() as conn:
        store.trials.load_for_write(conn, trial.id)
        racer = threading.Thread(target=import_the_same_day)
        racer.start()
        _wait_until_a_backend_waits_for_a_lock(engine)
        keys = {(a.spec.channel, a.spec.creative): a.id for a in trial.arms}
        conn.execute(
            insert(schema.daily_results).values(
                trial_id=trial.id,
                arm_id=keys["WeChat", "Video A"],
                day=date(2026, 9, 1),
                source="channel",
                impressions=100,
                clicks=10,
                conversions=1,
                spend_micros=5_000_000,
                revenue_micros=20_000_000,
            )
        )
    racer.join()
    # It planned after the lock was released, so it saw the stored day: an overlap to
    # confirm, not a unique violation half-way through.
    assert isinstance(outcome["value"], OverlapError)
    assert [r.clicks for r in store.daily_results(trial.id)] == [10]


def _wait_until_a_backend_waits_for_a_lock(engine) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    with engine.connect() as conn:
        for _ in range(1200):  # a guard against hanging, not a timing check
            if conn.execute(query).scalar():
                return
            conn.rollback()
            time.sleep(0.05)
    pytest.fail("the racing writer never waited for the trial's lock")
