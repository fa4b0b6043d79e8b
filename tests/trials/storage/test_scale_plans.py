"""Scale plans in the store: written once with who, replaced only with a reason, ended
once with who and why; the database refuses every other change (SQLite and PostgreSQL)."""

from datetime import date

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from tests.conftest import day_rows, make_spec
from trials.domain import TrialValidationError, UserError
from trials.domain.accounts import PermissionDenied, Role
from trials.domain.scale_plans import PlanStatus, ScaleSettings
from trials.storage import schema
from trials.storage.store import TrialStore
from trials.storage.trials import TrialNotFound

START = date(2026, 9, 10)


def _trial(store, **spec):
    trial = store.create_trial(make_spec(**spec))
    store.add_results(trial.id, day_rows(trial, days=3), kind="manual")
    return trial


def _rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(schema.scale_plans).order_by(schema.scale_plans.c.id)).all()


def test_a_plan_is_written_with_who_and_the_trials_break_even(store):
    trial = _trial(store, break_even_roas=2.5)
    arm = trial.arms[0]
    plan = store.write_scale_plan(trial.id, arm.id, ScaleSettings(40.0, 0.5, 7, 0.9), START)
    assert plan.created_by == "tester" and plan.created_at.tzinfo is not None
    assert plan.arm_name == arm.name and plan.break_even_roas == 2.5
    assert plan.settings == ScaleSettings(40.0, 0.5, 7, 0.9)
    assert plan.start == START and plan.status is PlanStatus.ACTIVE
    assert store.current_scale_plan(trial.id, arm.id) == plan
    assert store.scale_plans(trial.id) == [plan]
    assert store.current_scale_plan(trial.id, trial.arms[1].id) is None


def test_a_written_plan_is_not_changed_without_a_reason_and_a_new_plan_replaces_it(store, engine):
    trial = _trial(store)
    arm = trial.arms[0]
    first = store.write_scale_plan(trial.id, arm.id, ScaleSettings(40.0), START)
    before = _rows(engine)
    with pytest.raises(UserError, match="already has this plan"):
        store.write_scale_plan(trial.id, arm.id, ScaleSettings(40.0), START)
    with pytest.raises(UserError, match=r"cannot be changed.*only with a reason"):
        store.write_scale_plan(trial.id, arm.id, ScaleSettings(40.0, stop_probability=0.6), START)
    assert _rows(engine) == before
    second = store.write_scale_plan(
        trial.id, arm.id, ScaleSettings(40.0, step=0.3), START, reason="+50 % broke delivery"
    )
    old, new = store.scale_plans(trial.id, arm.id)
    assert old.id == first.id and old.status is PlanStatus.REPLACED
    assert old.ended_by == "tester" and old.end_reason == "+50 % broke delivery"
    assert old.settings == first.settings  # what was written stays as written
    assert new == second and new.replaces == first.id and new.reason == "+50 % broke delivery"
    assert new.active and new.step == 0.3


def test_bad_settings_an_unknown_arm_or_an_arm_without_data_write_nothing(store, engine):
    trial = store.create_trial(make_spec())
    with pytest.raises(UserError, match="has no results yet"):
        store.write_scale_plan(trial.id, trial.arms[0].id, ScaleSettings(40.0), START)
    store.add_results(trial.id, day_rows(trial), kind="manual")
    with pytest.raises(TrialValidationError, match="step_days"):
        store.write_scale_plan(trial.id, trial.arms[0].id, ScaleSettings(40.0, step_days=1), START)
    with pytest.raises(UserError, match="not one of"):
        store.write_scale_plan(trial.id, 98765, ScaleSettings(40.0), START)
    assert _rows(engine) == []


def test_ending_a_plan_records_who_and_why_once(store, engine):
    trial = _trial(store)
    plan = store.write_scale_plan(trial.id, trial.arms[0].id, ScaleSettings(40.0), START)
    with pytest.raises(UserError, match="needs a reason"):
        store.end_scale_plan(trial.id, plan.id, PlanStatus.STOPPED, "  ")
    with pytest.raises(UserError, match="stopped or finished"):
        store.end_scale_plan(trial.id, plan.id, PlanStatus.REPLACED, "x")
    ended = store.end_scale_plan(trial.id, plan.id, PlanStatus.STOPPED, "season is over")
    assert ended.status is PlanStatus.STOPPED and ended.ended_by == "tester"
    assert ended.end_reason == "season is over" and ended.ended_at is not None
    before = _rows(engine)
    with pytest.raises(UserError, match="already ended"):
        store.end_scale_plan(trial.id, plan.id, PlanStatus.FINISHED, "again")
    assert _rows(engine) == before
    # After it ended, a new plan needs no reason: nothing active is replaced.
    again = store.write_scale_plan(trial.id, trial.arms[0].id, ScaleSettings(60.0), START)
    assert again.active and again.replaces is None


def test_a_viewer_is_refused_and_another_workspace_sees_nothing(store, engine):
    from trials.storage.accounts import AccountRepository

    trial = _trial(store)
    plan = store.write_scale_plan(trial.id, trial.arms[0].id, ScaleSettings(40.0), START)
    viewer = TrialStore(engine, actor="vic", role=Role.VIEWER)
    before = _rows(engine)
    with pytest.raises(PermissionDenied, match="cannot write scale plans"):
        viewer.write_scale_plan(trial.id, trial.arms[1].id, ScaleSettings(40.0), START)
    with pytest.raises(PermissionDenied, match="cannot end scale plans"):
        viewer.end_scale_plan(trial.id, plan.id, PlanStatus.STOPPED, "why")
    assert viewer.scale_plans(trial.id) == [plan]  # reading is allowed
    other = AccountRepository(engine, actor="root").add_workspace("Other")
    theirs = TrialStore(engine, workspace_id=other.id, actor="them")
    with pytest.raises(TrialNotFound):
        theirs.scale_plans(trial.id)
    with pytest.raises(TrialNotFound):
        theirs.end_scale_plan(trial.id, plan.id, PlanStatus.STOPPED, "why")
    assert _rows(engine) == before


REFUSED = "scale_plans are written once"


def test_the_database_refuses_rewriting_a_plan_deleting_it_or_touching_an_ended_one(store, engine):
    trial = _trial(store)
    plan = store.write_scale_plan(trial.id, trial.arms[0].id, ScaleSettings(40.0), START)
    c = schema.scale_plans.c
    for statement in (
        update(schema.scale_plans).values(stop_probability=0.55),
        update(schema.scale_plans).values(step=1.0),
        update(schema.scale_plans).values(created_by="someone else"),
        delete(schema.scale_plans),
        delete(schema.trials).where(schema.trials.c.id == trial.id),  # the cascade
    ):
        with pytest.raises(DBAPIError, match=REFUSED), engine.begin() as conn:
            conn.execute(statement)
    store.end_scale_plan(trial.id, plan.id, PlanStatus.STOPPED, "done")
    with pytest.raises(DBAPIError, match=REFUSED), engine.begin() as conn:
        conn.execute(update(schema.scale_plans).values(end_reason="rewritten"))
    with pytest.raises(DBAPIError, match=REFUSED), engine.begin() as conn:
        conn.execute(update(schema.scale_plans).where(c.id == plan.id).values(status="active"))
    (row,) = _rows(engine)
    assert (row.stop_probability, row.end_reason, row.status) == (0.8, "done", "stopped")


def test_a_trial_with_a_plan_is_archived_not_deleted(store):
    trial = _trial(store, is_demo=True)
    store.write_scale_plan(trial.id, trial.arms[0].id, ScaleSettings(40.0), START)
    with pytest.raises(UserError, match="1 scale plan; archive it"):
        store.delete_trial(trial.id)
    kept = store.delete_demo_trials().kept
    assert [name for name, _ in kept] == [trial.name]
