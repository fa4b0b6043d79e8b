"""Amendments: the pre-registered plan is locked once a trial has data."""

from datetime import UTC, datetime

import pytest

from tests.conftest import day_rows, make_spec
from trials.domain import ArmSpec, DecisionRule, OrderRow, PrimaryMetric, TrialStatus, UserError
from trials.domain.amendments import (
    Amendment,
    AmendmentNeeded,
    amendment_lines,
    describe_changes,
    locked_changes,
    rule_version,
)
from trials.reports.contract import amendment_dict
from trials.storage.store import TrialStore

# -- the pure part ----------------------------------------------------------------------


def test_no_locked_change_gives_empty_dicts():
    spec = make_spec()
    free = spec.with_changes(name="Other", hypothesis="x", budget=10.0, status=TrialStatus.RUNNING)
    assert locked_changes(spec, free) == ({}, {})


def test_rule_and_metric_changes_keep_only_the_changed_fields():
    old = make_spec()
    new = old.with_changes(
        primary_metric=PrimaryMetric.CPA,
        decision_rule=DecisionRule(min_days=3, probability_threshold=0.8),
    )
    before, after = locked_changes(old, new)
    assert before == {
        "primary_metric": "roas",
        "decision_rule.min_days": 7,
        "decision_rule.probability_threshold": 0.95,
    }
    assert after == {
        "primary_metric": "cpa",
        "decision_rule.min_days": 3,
        "decision_rule.probability_threshold": 0.8,
    }


def test_arms_are_compared_by_name_and_planned_share_not_order():
    old = make_spec()
    a, b = old.arms
    assert locked_changes(old, old.with_changes(arms=(b, a))) == ({}, {})
    # A blank share stands for the equal split it means.
    blank = old.with_changes(arms=(ArmSpec(a.channel, a.creative, control=True), b))
    assert locked_changes(old, blank) == ({}, {})
    shifted = old.with_changes(
        arms=(ArmSpec(a.channel, a.creative, 0.7, True), ArmSpec(b.channel, b.creative, 0.3))
    )
    before, after = locked_changes(old, shifted)
    assert before == {
        "arms": [
            {"name": "WeChat · Video A", "planned_share": 0.5},
            {"name": "Weibo · Image B", "planned_share": 0.5},
        ]
    }
    assert after["arms"][0] == {"name": "WeChat · Video A", "planned_share": 0.7}
    renamed = old.with_changes(arms=(a, ArmSpec("Weibo", "Image C", 0.5)))
    assert locked_changes(old, renamed)[1]["arms"][1]["name"] == "Weibo · Image C"


def test_plain_words_with_percentages_and_no_field_codes():
    before = {"decision_rule.min_days": 7, "decision_rule.probability_threshold": 0.95}
    after = {"decision_rule.min_days": 3, "decision_rule.probability_threshold": 0.8}
    assert describe_changes(before, after) == ["minimum days 7 → 3", "probability 95% → 80%"]
    amendment = Amendment(
        id=1,
        trial_id=1,
        created_at=datetime(2026, 11, 29, 8, 10, tzinfo=UTC),
        created_by="alice",
        reason="volume is lower than planned",
        before=before | {"primary_metric": "roas"},
        after=after | {"primary_metric": "conversion_rate"},
    )
    [line] = amendment_lines([amendment])
    assert line == (
        "2026-11-29 08:10 UTC, alice: primary metric ROAS → conversion rate, minimum days "
        "7 → 3, probability 95% → 80% — reason: volume is lower than planned"
    )
    assert "decision_rule" not in line and "_" not in line.split(" — ")[0]
    assert amendment_dict(amendment)["created_at"] == "2026-11-29T08:10:00+00:00"
    arms_only = Amendment(1, 1, amendment.created_at, "a", "r", {"arms": []}, {"arms": []})
    assert rule_version([amendment, arms_only]) == 2


# -- the store --------------------------------------------------------------------------


def _with_data(store, **changes):
    trial = store.create_trial(make_spec(**changes))
    store.add_results(trial.id, day_rows(trial, days=2), kind="manual")
    return store.get_trial(trial.id)


def _ids(trial):
    return [a.id for a in trial.arms]


def test_changing_the_rule_without_a_reason_is_refused_and_changes_nothing(store):
    trial = _with_data(store)
    spec = trial.spec.with_changes(
        name="Renamed too", decision_rule=DecisionRule(min_days=3, probability_threshold=0.8)
    )
    with pytest.raises(AmendmentNeeded) as caught:
        store.update_trial(trial.id, spec, _ids(trial))
    message = str(caught.value)
    assert "minimum days 7 → 3" in message and "probability 95% → 80%" in message
    assert "python -m trials amend" in message and "reason" in message
    with pytest.raises(AmendmentNeeded):
        store.update_trial(trial.id, spec, _ids(trial), reason="   ")
    again = store.get_trial(trial.id)
    assert again.spec == trial.spec and again.updated_at == trial.updated_at
    assert store.amendments(trial.id) == [] and again.rule_version == 1


def test_own_orders_count_as_data(store):
    trial = store.create_trial(make_spec())
    order = OrderRow("o1", datetime(2026, 9, 2, 10), 50.0, "paid", channel="WeChat", creative="V")
    store.commit_orders(trial.id, [order])
    assert store.has_data(trial.id)
    with pytest.raises(AmendmentNeeded):
        store.update_trial(
            trial.id, trial.spec.with_changes(primary_metric=PrimaryMetric.CPA), _ids(trial)
        )


def test_arms_and_shares_are_locked_too(store):
    trial = _with_data(store)
    a, b = trial.arms
    shares = trial.spec.with_changes(
        arms=(ArmSpec(a.spec.channel, a.spec.creative, 0.6, True), ArmSpec("Weibo", "Image B", 0.4))
    )
    with pytest.raises(AmendmentNeeded, match="arms"):
        store.update_trial(trial.id, shares, _ids(trial))
    added = trial.spec.with_changes(arms=(a.spec, b.spec, ArmSpec("Douyin", "Clip")))
    with pytest.raises(AmendmentNeeded):
        store.update_trial(trial.id, added, [a.id, b.id, None])
    # Swapping two arms' names keeps the names and shares but moves the data: locked.
    swapped = trial.spec.with_changes(
        arms=(ArmSpec("Weibo", "Image B", 0.5, True), ArmSpec("WeChat", "Video A", 0.5))
    )
    with pytest.raises(AmendmentNeeded):
        store.update_trial(trial.id, swapped, [a.id, b.id])
    assert [x.name for x in store.get_trial(trial.id).arms] == [a.name, b.name]


def test_an_amendment_records_who_when_before_after_and_why(store):
    trial = _with_data(store)
    other = TrialStore(store.engine, actor="alice")
    spec = trial.spec.with_changes(
        hypothesis="now free text", decision_rule=DecisionRule(min_days=3)
    )
    start = datetime.now(UTC)
    updated = other.update_trial(trial.id, spec, _ids(trial), reason="  volume is low  ")
    assert updated.spec == spec and updated.rule_version == 2
    [amendment] = store.amendments(trial.id)
    assert amendment.created_by == "alice" and amendment.reason == "volume is low"
    assert amendment.before == {"decision_rule.min_days": 7}
    assert amendment.after == {"decision_rule.min_days": 3}
    assert amendment.trial_id == trial.id and amendment.created_at >= start.replace(microsecond=0)
    assert amendment.created_at.tzinfo is not None
    # Shares-only amendments are recorded but leave the rule's version alone.
    a = updated.arms[0]
    arms = updated.spec.with_changes(
        arms=(ArmSpec(a.spec.channel, a.spec.creative, 0.6, True), ArmSpec("Weibo", "Image B"))
    )
    assert store.update_trial(trial.id, arms, _ids(updated), reason="shift").rule_version == 2
    metric = arms.with_changes(primary_metric=PrimaryMetric.CPA)
    assert store.update_trial(trial.id, metric, _ids(updated), reason="cpa").rule_version == 3
    assert [x.reason for x in store.amendments(trial.id)] == ["volume is low", "shift", "cpa"]
    assert store.get_trial(trial.id).rule_version == 3
    summary = next(s for s in store.list_trials() if s.trial.id == trial.id)
    assert summary.trial.rule_version == 3


def test_free_fields_stay_free_and_unrecorded_on_a_trial_with_data(store):
    trial = _with_data(store)
    spec = trial.spec.with_changes(
        name="New name",
        hypothesis="changed",
        end=trial.spec.end.replace(day=27),
        budget=5000.0,
        status=TrialStatus.RUNNING,
    )
    assert store.update_trial(trial.id, spec, _ids(trial)).spec == spec
    assert store.amendments(trial.id) == []


def test_a_trial_without_data_is_edited_freely_and_unrecorded(store):
    trial = store.create_trial(make_spec())
    assert not store.has_data(trial.id)
    spec = trial.spec.with_changes(
        primary_metric=PrimaryMetric.CPA,
        decision_rule=DecisionRule(min_days=2),
        arms=(*trial.spec.arms, ArmSpec("Douyin", "Clip", 0.0)),
    )
    updated = store.update_trial(trial.id, spec, [*_ids(trial), None])
    assert updated.spec == spec and updated.rule_version == 1
    assert store.amendments(trial.id) == []
    # With a reason the same call records it, data or not.
    again = store.update_trial(
        trial.id,
        spec.with_changes(decision_rule=DecisionRule(min_days=4)),
        _ids(updated),
        reason="plan",
    )
    assert again.rule_version == 2 and len(store.amendments(trial.id)) == 1


def test_an_amended_trial_is_kept_with_its_amendments_demo_or_not(store):
    # Amendments are an append-only log like the decisions: a trial that has one is
    # archived, never deleted (the database refuses to delete the log).
    trial = store.create_trial(make_spec(is_demo=True))
    store.add_results(trial.id, day_rows(trial), kind="demo")
    spec = trial.spec.with_changes(decision_rule=DecisionRule(min_days=3))
    store.update_trial(trial.id, spec, _ids(trial), reason="demo")
    with pytest.raises(UserError, match="has 1 amendment to its plan; archive it instead"):
        store.delete_trial(trial.id)
    assert store.delete_demo_trials().deleted == ()
    assert len(store.amendments(trial.id)) == 1
