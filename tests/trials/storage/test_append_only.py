"""The decision log and the amendments refuse UPDATE and DELETE in the database itself
(migration 0004), on SQLite and PostgreSQL; the app refuses first where it can."""

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from tests.conftest import day_rows, make_spec
from trials.domain import DecisionRule, UserError
from trials.domain.verdicts import DecisionRecord
from trials.storage import schema
from trials.storage.engine import connect, downgrade, migrate, schema_revision

REFUSED = r"(decisions|amendments) is append-only: (UPDATE|DELETE) refused"


def _logged_trial(store):
    """A trial with one decision and one amendment."""
    trial = store.create_trial(make_spec())
    store.add_results(trial.id, day_rows(trial), kind="manual")
    store.update_trial(
        trial.id,
        trial.spec.with_changes(decision_rule=DecisionRule(min_days=3)),
        [a.id for a in trial.arms],
        reason="low volume",
    )
    entry = store.record_decision(trial.id, DecisionRecord(note="keep testing"), {"m": 1})
    return trial, entry


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


@pytest.mark.parametrize("table", [schema.decisions, schema.amendments])
def test_raw_update_and_delete_of_a_log_entry_are_refused(store, engine, table):
    _logged_trial(store)
    for statement in (
        update(table).values(created_by="someone else"),
        delete(table),
    ):
        with pytest.raises(DBAPIError, match=REFUSED), engine.begin() as conn:
            conn.execute(statement)
    with engine.connect() as conn:
        assert set(conn.scalars(select(table.c.created_by))) == {"tester"}
    assert _count(engine, table) == 1


def test_a_correction_is_a_new_entry_and_the_old_one_stays(store, engine):
    trial, entry = _logged_trial(store)
    fixed = store.record_decision(
        trial.id, DecisionRecord(note="stop Weibo", corrects=entry.id), {"m": 2}
    )
    log = store.decisions(trial.id)
    assert [e.id for e in log] == [entry.id, fixed.id]
    assert log[0].corrected_by == (fixed.id,) and log[0].note == "keep testing"


def test_deleting_a_trial_with_a_log_is_refused_by_the_app_then_by_the_database(store, engine):
    trial, _ = _logged_trial(store)
    with pytest.raises(UserError, match="1 recorded decision and 1 amendment to its plan"):
        store.delete_trial(trial.id)
    # Behind the app's back, the cascade from the trial runs into the triggers.
    with pytest.raises(DBAPIError, match=REFUSED), engine.begin() as conn:
        conn.execute(delete(schema.trials).where(schema.trials.c.id == trial.id))
    assert store.get_trial(trial.id).id == trial.id
    assert _count(engine, schema.decisions) == _count(engine, schema.amendments) == 1


def test_postgresql_refuses_truncate_too(store, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    _logged_trial(store)
    for table in ("decisions", "amendments"):
        refused = pytest.raises(DBAPIError, match="append-only: TRUNCATE refused")
        with refused, engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {table} CASCADE"))


def test_downgrade_removes_the_triggers_and_upgrade_puts_them_back(db_url):
    engine = connect(db_url)
    from trials.storage.store import TrialStore

    store = TrialStore(engine, actor="tester")
    _logged_trial(store)
    downgrade(engine, "0003")
    assert schema_revision(engine) == "0003"
    with engine.begin() as conn:
        conn.execute(update(schema.decisions).values(note="changed while downgraded"))
    migrate(engine)
    with pytest.raises(DBAPIError, match=REFUSED), engine.begin() as conn:
        conn.execute(update(schema.decisions).values(note="changed again"))
    with engine.connect() as conn:
        assert conn.scalar(select(schema.decisions.c.note)) == "changed while downgraded"
    engine.dispose()
