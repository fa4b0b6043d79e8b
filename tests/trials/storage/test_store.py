from datetime import date, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from tests.conftest import day_rows, make_spec
from trials.domain import (
    ArmSpec,
    ArmTotals,
    DailyResult,
    DecisionRule,
    ResultSource,
    TrialStatus,
    TrialValidationError,
    UserError,
)
from trials.storage import schema
from trials.storage.store import TrialNotFound, TrialStore


def test_round_trip_keeps_every_field(store):
    spec = make_spec(
        gross_margin=0.5,
        status=TrialStatus.RUNNING,
        decision_rule=DecisionRule(min_days=10, probability_threshold=0.9),
        is_demo=True,
    )
    created = store.create_trial(spec)
    loaded = store.get_trial(created.id)
    assert loaded.spec == spec
    assert [a.spec for a in loaded.arms] == list(spec.arms)
    assert loaded.created_by == "tester" and loaded.updated_by == "tester"
    assert loaded.created_at.tzinfo is not None


def test_find_by_id_name_or_case_insensitive_name(store):
    trial = store.create_trial(make_spec())
    assert store.get_trial(trial.id).id == trial.id
    assert store.get_trial(str(trial.id)).id == trial.id
    assert store.get_trial("Spring social test").id == trial.id
    assert store.get_trial("spring SOCIAL test").id == trial.id
    with pytest.raises(TrialNotFound, match="no trial 'nope'"):
        store.get_trial("nope")


def test_duplicate_name_is_refused_with_the_field(store):
    store.create_trial(make_spec())
    with pytest.raises(TrialValidationError) as caught:
        store.create_trial(make_spec(name="SPRING social test"))
    assert caught.value.for_field("name")[0].startswith("a trial named 'Spring social test'")
    assert len(store.list_trials()) == 1


def test_totals_are_zero_without_data_and_exact_with_it(store):
    trial = store.create_trial(make_spec())
    assert set(store.arm_totals(trial.id).values()) == {ArmTotals()}
    store.add_results(trial.id, day_rows(trial, days=3), kind="manual")
    totals = store.arm_totals(trial.id)
    first = totals[trial.arms[0].id]
    assert first == ArmTotals(
        impressions=3003, clicks=60, conversions=6, spend=30.30, revenue=99.99, days=3
    )
    # Money is stored in micro-units: no binary float drift in sums.
    assert first.spend == 30.30 and first.revenue == 99.99


def test_a_day_is_never_stored_twice(store):
    trial = store.create_trial(make_spec())
    store.add_results(trial.id, day_rows(trial, days=2), kind="manual")
    with pytest.raises(UserError, match="already stored"):
        store.add_results(trial.id, day_rows(trial, days=3), kind="manual")
    # The refused batch left nothing behind: not its rows, not its batch record.
    assert store.arm_totals(trial.id)[trial.arms[0].id].days == 2
    assert len(store.import_batches(trial.id)) == 1


def test_same_day_from_own_orders_is_a_separate_source(store):
    trial = store.create_trial(make_spec())
    store.add_results(trial.id, day_rows(trial, days=1), kind="manual")
    orders = [
        DailyResult(
            arm_id=trial.arms[0].id,
            day=trial.spec.start,
            impressions=0,
            clicks=0,
            conversions=1,
            spend=0,
            revenue=20,
            source=ResultSource.ORDERS,
        )
    ]
    store.add_results(trial.id, orders, kind="orders")
    assert store.arm_totals(trial.id, ResultSource.ORDERS)[trial.arms[0].id].revenue == 20
    assert store.arm_totals(trial.id)[trial.arms[0].id].revenue == 33.33


def test_database_refuses_duplicate_day_even_behind_the_store(store, engine):
    trial = store.create_trial(make_spec())
    row = dict(
        trial_id=trial.id,
        arm_id=trial.arms[0].id,
        day=trial.spec.start,
        source="channel",
        impressions=10,
        clicks=1,
        conversions=0,
        spend_micros=0,
        revenue_micros=0,
    )
    with engine.begin() as conn:
        conn.execute(insert(schema.daily_results).values(**row))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(schema.daily_results).values(**row))


def test_results_outside_the_trial_dates_are_refused(store):
    trial = store.create_trial(make_spec())
    late = day_rows(trial, days=1, start=trial.spec.end + timedelta(days=1))
    with pytest.raises(UserError, match="outside the trial's dates"):
        store.add_results(trial.id, late, kind="manual")


def test_list_summarises_data_and_filters_by_status(store):
    a = store.create_trial(make_spec(name="A"))
    store.create_trial(make_spec(name="B", status=TrialStatus.RUNNING))
    store.add_results(a.id, day_rows(a, days=4), kind="manual")
    summaries = {s.trial.name: s for s in store.list_trials()}
    assert summaries["A"].days_with_data == 4
    assert summaries["A"].spend == pytest.approx(80.80)
    assert summaries["A"].last_data_date == a.spec.start + timedelta(days=3)
    assert summaries["A"].budget_used == pytest.approx(80.80 / 2000)
    assert summaries["B"].days_with_data == 0 and summaries["B"].last_data_date is None
    running = store.list_trials(statuses=[TrialStatus.RUNNING])
    assert [s.trial.name for s in running] == ["B"]


def test_update_edits_renames_adds_and_removes_arms(store):
    trial = store.create_trial(
        make_spec(arms=(ArmSpec("X", "A"), ArmSpec("X", "B"), ArmSpec("X", "C")))
    )
    a, b, c = trial.arms
    # Swap A and B's names (uniqueness must not trip), drop C, add D.
    spec = make_spec(
        name="Renamed",
        arms=(ArmSpec("X", "B"), ArmSpec("X", "A", control=True), ArmSpec("Y", "D")),
    )
    updated = store.update_trial(trial.id, spec, [a.id, b.id, None])
    assert updated.name == "Renamed"
    assert [(x.id, x.name) for x in updated.arms[:2]] == [(a.id, "X · B"), (b.id, "X · A")]
    assert updated.arms[2].name == "Y · D" and updated.arms[2].id not in (a.id, b.id, c.id)


def test_arms_with_results_cannot_be_removed(store):
    trial = store.create_trial(make_spec())
    store.add_results(trial.id, day_rows(trial, days=1), kind="manual")
    keep = trial.arms[0]
    spec = make_spec(arms=(keep.spec, ArmSpec("New", "Arm")))
    with pytest.raises(TrialValidationError, match="cannot remove arms that have results"):
        store.update_trial(trial.id, spec, [keep.id, None])
    assert [a.id for a in store.get_trial(trial.id).arms] == [a.id for a in trial.arms]


def test_update_refuses_a_name_another_trial_has(store):
    store.create_trial(make_spec(name="Taken"))
    trial = store.create_trial(make_spec(name="Mine"))
    with pytest.raises(TrialValidationError, match="already exists"):
        store.update_trial(trial.id, make_spec(name="taken"), [a.id for a in trial.arms])


def test_status_and_archive_record_who(store):
    trial = store.create_trial(make_spec())
    other = TrialStore(store.engine, actor="someone else")
    archived = other.archive(trial.id)
    assert archived.spec.status is TrialStatus.ARCHIVED
    assert archived.updated_by == "someone else" and archived.created_by == "tester"


def test_delete_only_demo_or_empty_trials(store):
    empty = store.create_trial(make_spec(name="Empty"))
    used = store.create_trial(make_spec(name="Used"))
    demo = store.create_trial(make_spec(name="Demo", is_demo=True))
    store.add_results(used.id, day_rows(used), kind="manual")
    store.add_results(demo.id, day_rows(demo), kind="demo")
    store.delete_trial(empty.id)
    store.delete_trial(demo.id)
    with pytest.raises(UserError, match="archive it instead"):
        store.delete_trial(used.id)
    assert [s.trial.name for s in store.list_trials()] == ["Used"]


def test_delete_demo_trials_leaves_real_ones(store):
    store.create_trial(make_spec(name="Real"))
    store.create_trial(make_spec(name="Demo 1", is_demo=True))
    store.create_trial(make_spec(name="Demo 2", is_demo=True))
    assert store.delete_demo_trials().deleted == ("Demo 1", "Demo 2")
    assert [s.trial.name for s in store.list_trials()] == ["Real"]


def test_workspaces_do_not_see_each_other(store, engine):
    with engine.begin() as conn:
        conn.execute(
            insert(schema.workspaces).values(
                id=2, name="Other team", name_key="other team", created_at=date(2026, 1, 1)
            )
        )
    mine = store.create_trial(make_spec(name="Shared name"))
    theirs = TrialStore(engine, workspace_id=2, actor="them")
    # The same name is free in another workspace, and neither sees the other's trials.
    other = theirs.create_trial(make_spec(name="Shared name"))
    assert [s.trial.id for s in store.list_trials()] == [mine.id]
    assert [s.trial.id for s in theirs.list_trials()] == [other.id]
    with pytest.raises(TrialNotFound):
        theirs.get_trial(mine.id)
    with pytest.raises(TrialNotFound):
        theirs.arm_totals(mine.id)
    assert store.is_empty() is False


def test_import_batches_record_who_and_what(store):
    trial = store.create_trial(make_spec())
    batch = store.add_results(
        trial.id, day_rows(trial, days=2), kind="daily", file_name="ads.csv", digest="ab" * 32
    )
    assert (batch.kind, batch.file_name, batch.row_count, batch.created_by) == (
        "daily",
        "ads.csv",
        4,
        "tester",
    )
    assert store.import_batches(trial.id) == [batch]
    assert {r.import_batch_id for r in store.daily_results(trial.id)} == {batch.id}
