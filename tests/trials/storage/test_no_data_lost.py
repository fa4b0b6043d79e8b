"""No way to lose data: undo keeps UTM rules, removing an arm keeps what an undo needs,
and an undo that could not restore what it should is refused, never reported done."""

from datetime import date

import pytest
from sqlalchemy import delete, func, select

from tests.conftest import make_spec
from trials.domain import ArmSpec, DecisionRule, ResultRow, TrialValidationError, UserError
from trials.domain.imports import UtmRule
from trials.storage import schema

DAY = date(2026, 9, 1)


def row(channel, creative, day=DAY, clicks=10, n=2):
    return ResultRow(channel, creative, day, 100, clicks, 1, 5.0, 20.0, row=n)


def test_undoing_an_import_that_added_an_arm_keeps_the_utm_rules_sent_to_it(store):
    trial = store.create_trial(make_spec())
    added = store.commit_results(trial.id, [row("Douyin", "Hook C")], kind="daily", add_arms=True)
    douyin = next(a for a in store.get_trial(trial.id).arms if a.name == "Douyin · Hook C")
    rule = UtmRule("douyin", "", "spring", "hook-c", douyin.id)
    store.save_utm_rules(trial.id, [rule])

    store.undo_batch(trial.id, added.batch.id)

    assert store.daily_results(trial.id) == []
    assert store.utm_rules(trial.id) == [rule]
    # The arm stays, since a rule points at it.
    assert "Douyin · Hook C" in [a.name for a in store.get_trial(trial.id).arms]


def test_undoing_an_import_still_removes_an_added_arm_nothing_refers_to(store):
    trial = store.create_trial(make_spec())
    added = store.commit_results(trial.id, [row("Douyin", "Hook C")], kind="daily", add_arms=True)
    store.undo_batch(trial.id, added.batch.id)
    assert [a.id for a in store.get_trial(trial.id).arms] == [a.id for a in trial.arms]


def _deleted_by_a_manual_edit(store):
    """A trial whose second arm's only day was deleted in a manual edit (kept for undo)."""
    trial = store.create_trial(make_spec())
    weibo = trial.arms[1]
    store.commit_results(
        trial.id, [row("WeChat", "Video A"), row("Weibo", "Image B", n=3)], kind="daily"
    )
    edit = store.commit_results(
        trial.id,
        [row("WeChat", "Video A")],
        kind="manual",
        replace=True,
        removals=[(weibo.id, DAY)],
    )
    assert edit.counts["removed"] == 1
    return trial, edit


def test_an_arm_whose_deleted_rows_are_kept_for_undo_cannot_be_removed(store):
    trial, edit = _deleted_by_a_manual_edit(store)
    wechat, weibo = trial.arms
    spec = trial.spec.with_changes(arms=(wechat.spec, ArmSpec("Weibo", "Image C")))
    with pytest.raises(TrialValidationError) as refused:
        store.update_trial(trial.id, spec, [wechat.id, None], reason="swap the creative")
    message = refused.value.for_field("arms")[0]
    assert "'Weibo · Image B' (1 rows kept" in message and f"import {edit.batch.id}" in message
    # Nothing changed: the arm, its kept row and no amendment.
    assert [a.id for a in store.get_trial(trial.id).arms] == [wechat.id, weibo.id]
    assert store.amendments(trial.id) == []
    # And the undo still brings the deleted row back.
    store.undo_batch(trial.id, edit.batch.id)
    assert sorted(r.arm_id for r in store.daily_results(trial.id)) == [wechat.id, weibo.id]


def test_undo_is_refused_when_the_rows_it_should_restore_are_gone(store, engine):
    # What an older version allowed: the kept copy destroyed behind the undo's back.
    trial, edit = _deleted_by_a_manual_edit(store)
    with engine.begin() as conn:
        conn.execute(delete(schema.replaced_results))
    with pytest.raises(UserError, match=r"only 0 of them are still kept.*nothing was undone"):
        store.undo_batch(trial.id, edit.batch.id)
    batch = next(b for b in store.import_batches(trial.id) if b.id == edit.batch.id)
    assert batch.status == "committed"
    assert len(store.daily_results(trial.id)) == 1


def test_undo_of_a_replacing_import_counts_what_it_kept(store, engine):
    trial = store.create_trial(make_spec())
    store.commit_results(trial.id, [row("WeChat", "Video A")], kind="daily")
    second = store.commit_results(
        trial.id, [row("WeChat", "Video A", clicks=12)], kind="daily", replace=True
    )
    with engine.connect() as conn:
        kept = conn.scalar(select(func.count()).select_from(schema.replaced_results))
    assert kept == 1
    store.undo_batch(trial.id, second.batch.id)
    assert [r.clicks for r in store.daily_results(trial.id)] == [10]


def _order(order_id="A-1"):
    from datetime import datetime

    from trials.domain import OrderRow

    return OrderRow(order_id, datetime(2026, 9, 2, 10), 88.0, "paid", utm_source="wechat")


def _decision(store, trial, note="keep going"):
    from trials.domain.verdicts import DecisionRecord

    return store.record_decision(trial.id, DecisionRecord(note=note), {"method": "mcmc"})


def test_delete_refuses_a_trial_whose_only_data_are_own_orders(store):
    trial = store.create_trial(make_spec())
    store.commit_orders(trial.id, [_order()])
    with pytest.raises(UserError, match=r"has 1 own order; archive it instead.*Nothing was"):
        store.delete_trial(trial.id)
    assert [o.order_id for o in store.orders(trial.id)] == ["A-1"]


def test_delete_refuses_a_trial_with_a_decision_or_an_amendment_demo_or_not(store):
    decided = store.create_trial(make_spec(name="Decided"))
    _decision(store, decided)
    demo = store.create_trial(make_spec(name="Demo decided", is_demo=True))
    _decision(store, demo)
    amended = store.create_trial(make_spec(name="Amended"))
    store.update_trial(
        amended.id,
        amended.spec.with_changes(decision_rule=DecisionRule(min_days=3)),
        [a.id for a in amended.arms],
        reason="low volume",
    )
    for trial, what in ((decided, "1 recorded decision"), (demo, "1 recorded decision")):
        with pytest.raises(UserError, match=f"has {what};"):
            store.delete_trial(trial.id)
    with pytest.raises(UserError, match="has 1 amendment to its plan;"):
        store.delete_trial(amended.id)
    assert len(store.list_trials()) == 3


def test_the_refusal_lists_everything_the_trial_has(store):
    trial = store.create_trial(make_spec(name="Everything"))
    store.commit_results(trial.id, [row("WeChat", "Video A")], kind="daily")
    store.commit_orders(trial.id, [_order(), _order("A-2")])
    _decision(store, trial)
    assert store.why_not_deletable(trial.id) == (
        "'Everything' has 1 stored result row, 2 own orders and 1 recorded decision; archive "
        "it instead of deleting it, so its record is kept. Nothing was deleted."
    )


def test_a_demo_trial_with_only_demo_data_is_deleted(store):
    demo = store.create_trial(make_spec(name="Demo", is_demo=True))
    store.commit_results(demo.id, [row("WeChat", "Video A")], kind="demo")
    store.commit_orders(demo.id, [_order()])
    assert store.why_not_deletable(demo.id) is None
    store.delete_trial(demo.id)
    assert store.list_trials() == []


def test_deleting_the_demo_trials_keeps_those_with_decisions_and_names_them(store):
    store.create_trial(make_spec(name="Real"))
    store.create_trial(make_spec(name="Demo 1", is_demo=True))
    decided = store.create_trial(make_spec(name="Demo 2", is_demo=True))
    entry = _decision(store, decided, note="a real decision on demo data")
    outcome = store.delete_demo_trials()
    assert outcome.deleted == ("Demo 1",)
    assert [name for name, _ in outcome.kept] == ["Demo 2"]
    assert "1 recorded decision" in outcome.kept[0][1]
    assert sorted(s.trial.name for s in store.list_trials()) == ["Demo 2", "Real"]
    assert [e.id for e in store.decisions(decided.id)] == [entry.id]


def test_an_edit_cannot_make_a_trial_a_demo_or_stop_a_demo_being_one(store):
    real = store.create_trial(make_spec(name="Real"))
    edited = store.update_trial(
        real.id, real.spec.with_changes(is_demo=True), [a.id for a in real.arms]
    )
    assert edited.spec.is_demo is False
    demo = store.create_trial(make_spec(name="Demo", is_demo=True))
    edited = store.update_trial(
        demo.id, demo.spec.with_changes(is_demo=False, hypothesis="x"), [a.id for a in demo.arms]
    )
    assert edited.spec.is_demo is True and edited.spec.hypothesis == "x"
