"""Rounds: starting the next round, which arms and days belong to which round, and that a
refused round changes nothing."""

from datetime import date, timedelta

import pytest

from tests.conftest import day_rows, make_spec
from tests.trials.storage.test_boundaries import dump
from trials.domain import ArmSpec, DecisionRule, ResultRow, TrialStatus, UserError
from trials.domain.accounts import PermissionDenied, Role
from trials.domain.rounds import NextRound, RoundChanges
from trials.storage.store import TrialStore

ROUND_2 = date(2026, 9, 10)


@pytest.fixture
def running(store):
    """A two-arm trial with 5 days of data (Sep 1-5)."""
    trial = store.create_trial(make_spec())
    store.add_results(trial.id, day_rows(trial, days=5), kind="manual")
    return store.get_trial(trial.id)


def next_round(**changes) -> NextRound:
    values = dict(
        start=ROUND_2,
        reason="new content for Weibo",
        changes=RoundChanges(replace=(("Weibo · Image B", "Image C"),)),
    )
    return NextRound(**(values | changes))


def rows(arm_name: str, day: date, row: int = 2) -> ResultRow:
    channel, creative = arm_name.split(" · ")
    return ResultRow(channel, creative, day, 1000, 30, 3, 20.0, 60.0, row=row)


def test_a_trial_without_rounds_is_its_own_round_1(running):
    assert running.rounds == ()
    assert running.current_round == 1 and running.round_number == 1
    assert running.in_round(1) is running
    assert running.whole() is running
    with pytest.raises(UserError, match="no round 2"):
        running.in_round(2)


def test_the_next_round_freezes_the_current_one_and_replaces_the_creative(store, running):
    trial = store.start_round(running.id, next_round(budget=3000.0))
    assert trial.current_round == 2 and len(trial.rounds) == 2
    first, second = trial.rounds
    # Round 1 keeps its start, its budget and its rule, and ends the day before round 2.
    assert (first.start, first.end) == (date(2026, 9, 1), ROUND_2 - timedelta(days=1))
    assert first.budget == 2000.0 and first.arm_ids == tuple(a.id for a in running.arms)
    # Round 2 lasts as long as round 1 was planned (28 days) and has its own budget.
    assert (second.start, second.end) == (ROUND_2, ROUND_2 + timedelta(days=27))
    assert (trial.spec.start, trial.spec.end, trial.spec.budget) == (
        second.start,
        second.end,
        3000.0,
    )
    assert second.reason == "new content for Weibo"
    assert second.created_by == "tester"
    # The replaced creative is a new arm on the same channel with the old one's share.
    assert [a.name for a in trial.arms] == ["WeChat · Video A", "Weibo · Image C"]
    old, new = running.arms[1], trial.arms[1]
    assert second.replaced == ((old.id, new.id),)
    assert new.spec.budget_share == old.spec.budget_share
    assert {a.name for a in trial.all_arms} == {
        "WeChat · Video A",
        "Weibo · Image B",
        "Weibo · Image C",
    }
    # Round 1 as it ran: its arms, dates and budget.
    one = trial.in_round(1)
    assert [a.name for a in one.arms] == ["WeChat · Video A", "Weibo · Image B"]
    assert (one.spec.start, one.spec.end, one.spec.budget) == (first.start, first.end, 2000.0)
    assert one.round_number == 1 and not one.is_current_round


def test_arms_are_added_and_dropped_and_the_rule_changes_only_for_the_new_round(store, running):
    rule = DecisionRule(min_days=3, min_conversions_per_arm=10)
    trial = store.start_round(
        running.id,
        next_round(
            changes=RoundChanges(add=(ArmSpec("Douyin", "Clip 1"),)),
            rule=rule,
        ),
    )
    assert [a.name for a in trial.arms] == [
        "WeChat · Video A",
        "Weibo · Image B",
        "Douyin · Clip 1",
    ]
    assert trial.spec.decision_rule == rule
    assert trial.in_round(1).spec.decision_rule == running.spec.decision_rule
    store.commit_results(trial.id, [rows("Douyin · Clip 1", ROUND_2)], kind="daily")
    third = store.start_round(
        trial.id,
        next_round(
            start=ROUND_2 + timedelta(days=40),
            changes=RoundChanges(drop=("weibo ·  image b",)),  # case and spaces ignored
        ),
    )
    assert third.current_round == 3
    assert [a.name for a in third.arms] == ["WeChat · Video A", "Douyin · Clip 1"]
    assert third.rounds[2].dropped == (running.arms[1].id,)
    assert [a.name for a in third.in_round(2).arms] == [a.name for a in trial.arms]


def test_a_round_cannot_start_on_or_before_the_last_day_with_data(store, engine, running):
    before = dump(engine)
    with pytest.raises(UserError, match="2026-09-05"):
        store.start_round(running.id, next_round(start=date(2026, 9, 5)))
    assert dump(engine) == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (RoundChanges(drop=("Weibo · Image B",)), "at least two"),
        (RoundChanges(replace=(("Weibo · Nope", "X"),)), "no arm 'Weibo · Nope'"),
        (
            RoundChanges(replace=(("Weibo · Image B", "Video A"),), drop=("Weibo · Image B",)),
            "more than once",
        ),
        (RoundChanges(add=(ArmSpec("WeChat", "Video A"),)), "already ran"),
    ],
)
def test_refused_rounds_change_nothing(store, engine, running, changes, message):
    before = dump(engine)
    with pytest.raises(UserError, match=message):
        store.start_round(running.id, next_round(changes=changes))
    assert dump(engine) == before


def test_a_round_needs_data_in_the_current_one_and_a_reason(store, engine):
    trial = store.create_trial(make_spec())
    with pytest.raises(UserError, match="no data yet"):
        store.start_round(trial.id, next_round())
    with pytest.raises(UserError, match="reason"):
        NextRound(start=ROUND_2, reason="  ")


def test_a_viewer_cannot_start_a_round(engine, running):
    viewer = TrialStore(engine, actor="vic", role=Role.VIEWER)
    with pytest.raises(PermissionDenied, match="cannot start a new round"):
        viewer.start_round(running.id, next_round())


def test_an_archived_trial_starts_no_round_and_a_decided_one_runs_again(store, running):
    store.set_status(running.id, TrialStatus.ARCHIVED)
    with pytest.raises(UserError, match="archived"):
        store.start_round(running.id, next_round())
    store.set_status(running.id, TrialStatus.DECIDED)
    assert store.start_round(running.id, next_round()).spec.status == TrialStatus.RUNNING


def test_rows_go_to_the_round_that_covers_their_day(store, running):
    trial = store.start_round(running.id, next_round())
    # A late row of round 1 for the replaced creative, and round 2 rows for both arms.
    outcome = store.commit_results(
        trial.id,
        [
            rows("Weibo · Image B", date(2026, 9, 6)),
            rows("WeChat · Video A", ROUND_2, 3),
            rows("Weibo · Image C", ROUND_2, 4),
        ],
        kind="daily",
    )
    assert outcome.counts["new"] == 3
    by_arm = {r.arm_id: r.day for r in store.daily_results(trial.id) if r.day >= date(2026, 9, 6)}
    names = {a.id: a.name for a in trial.all_arms}
    assert {names[a]: d for a, d in by_arm.items()} == {
        "Weibo · Image B": date(2026, 9, 6),
        "WeChat · Video A": ROUND_2,
        "Weibo · Image C": ROUND_2,
    }


@pytest.mark.parametrize(
    ("arm", "day", "message"),
    [
        ("Weibo · Image B", ROUND_2, "did not run in round 2"),
        ("Weibo · Image C", date(2026, 9, 3), "did not run in round 1"),
    ],
)
def test_a_row_of_an_arm_outside_its_rounds_is_refused(store, engine, running, arm, day, message):
    trial = store.start_round(running.id, next_round())
    before = dump(engine)
    with pytest.raises(UserError, match=f"row 7: .*{message}"):
        store.commit_results(trial.id, [rows(arm, day, 7)], kind="daily")
    assert dump(engine) == before


def test_the_current_round_locks_its_rule_with_its_own_data(store, running):
    trial = store.start_round(running.id, next_round())
    # Round 2 has no data yet: its rule is free to change, no amendment needed.
    changed = trial.spec.with_changes(decision_rule=DecisionRule(min_days=4))
    trial = store.update_trial(trial.id, changed, [a.id for a in trial.arms])
    assert trial.spec.decision_rule.min_days == 4 and store.amendments(trial.id) == []
    store.commit_results(trial.id, [rows("WeChat · Video A", ROUND_2)], kind="daily")
    with pytest.raises(UserError, match="amendment"):
        store.update_trial(
            trial.id,
            trial.spec.with_changes(decision_rule=DecisionRule(min_days=2)),
            [a.id for a in trial.arms],
        )


def test_the_current_round_may_not_move_into_the_previous_one(store, running):
    trial = store.start_round(running.id, next_round())
    with pytest.raises(UserError, match="within round 1"):
        store.update_trial(
            trial.id, trial.spec.with_changes(start=date(2026, 9, 8)), [a.id for a in trial.arms]
        )


def test_an_arm_added_from_the_trial_form_joins_the_current_round(store, running):
    trial = store.start_round(running.id, next_round())
    spec = trial.spec.with_changes(
        arms=(*trial.spec.arms, ArmSpec("Email", "Newsletter")),
    )
    updated = store.update_trial(trial.id, spec, [*(a.id for a in trial.arms), None], reason="x")
    assert [a.name for a in updated.in_round(1).arms] == ["WeChat · Video A", "Weibo · Image B"]
    assert "Email · Newsletter" in [a.name for a in updated.arms]
