"""Every public ``TrialStore`` method, tried across the boundaries it must keep.

* Another workspace's trial, by id and by name, is "not found" for every method that takes
  a trial (the same words as an id that does not exist), and nothing changes anywhere.
* A viewer's every write is refused (PermissionDenied) and nothing changes.
* Ids of another workspace's batches, decisions, arms and rules, given with one's own
  trial, reach nothing of theirs.

The methods are found by introspection, so a method added later is tried too (and the
test fails until its arguments and its kind, read or write, are declared below).
"""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta

import pytest
from sqlalchemy import MetaData, select

from tests.conftest import day_rows, make_spec
from trials.domain import (
    ArmSpec,
    DecisionRule,
    OrderRow,
    OrderStatus,
    ResultRow,
    TrialStatus,
    UserError,
)
from trials.domain.accounts import PermissionDenied, Role
from trials.domain.imports import UtmRule
from trials.domain.rounds import NextRound
from trials.domain.scale_plans import PlanStatus, ScaleSettings
from trials.domain.verdicts import DecisionRecord
from trials.storage.accounts import AccountRepository
from trials.storage.store import TrialNotFound, TrialStore

# Every public method of TrialStore, by kind. A new method fails
# test_every_method_is_declared until it is put in one of these.
READS = {
    "is_empty",
    "get_trial",
    "list_trials",
    "arm_totals",
    "daily_results",
    "import_batches",
    "plan_results",
    "orders",
    "plan_orders",
    "utm_rules",
    "decisions",
    "amendments",
    "has_data",
    "scale_plans",
    "current_scale_plan",
    "why_not_deletable",
    "trial_priors",
    "trial_priors_history",
}
# Each write, and the words its refusal uses ("… cannot import data; nothing was changed").
WRITES = {
    "create_trial": "create trials",
    "update_trial": "change trials",
    "set_status": "change a trial's status",
    "archive": "change a trial's status",
    "delete_trial": "delete trials",
    "delete_demo_trials": "delete trials",
    "add_results": "import data",
    "commit_results": "import data",
    "commit_orders": "import orders",
    "save_utm_rules": "change UTM rules",
    "delete_utm_rule": "change UTM rules",
    "undo_batch": "undo imports",
    "record_decision": "record decisions",
    "start_round": "start a new round",
    "set_trial_priors": "change a trial's priors",
    "write_scale_plan": "write scale plans",
    "end_scale_plan": "end scale plans",
}
# Checks that write nothing and refuse a viewer (asked before slow work).
CHECKS = {"require_write"}
TRIAL_PARAMS = ("trial_id", "ref")


def public_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(fn)
        for name, fn in inspect.getmembers(TrialStore, inspect.isfunction)
        if not name.startswith("_")
    }


def takes_a_trial(signature: inspect.Signature) -> bool:
    params = list(signature.parameters)
    return len(params) > 1 and params[1] in TRIAL_PARAMS


def dump(engine) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    meta = MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            rows = conn.execute(select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


class World:
    """Two workspaces: ``mine`` (Default, id 1) and ``theirs`` (id 2), each with a trial
    that has results, own orders, a UTM rule, a decision and an amendment."""

    def __init__(self, engine):
        accounts = AccountRepository(engine, actor="root")
        self.other_workspace = accounts.add_workspace("Other team")
        self.engine = engine
        self.mine = TrialStore(engine, actor="me", workspace_name="Default")
        self.theirs = TrialStore(
            engine,
            workspace_id=self.other_workspace.id,
            actor="them",
            workspace_name="Other team",
        )
        self.my_trial = self._fill(self.mine, "Mine")
        self.their_trial = self._fill(self.theirs, "Theirs")

    @staticmethod
    def _fill(store: TrialStore, name: str):
        trial = store.create_trial(make_spec(name=name))
        store.add_results(trial.id, day_rows(trial, days=2), kind="manual")
        arm = trial.arms[0]
        store.commit_orders(
            trial.id,
            [
                OrderRow(
                    "o-1",
                    datetime(2026, 9, 2, 10),
                    50.0,
                    OrderStatus.PAID,
                    utm_source=arm.spec.channel,
                    utm_content=arm.spec.creative,
                    row=2,
                )
            ],
            file_name="orders.csv",
        )
        store.save_utm_rules(trial.id, [UtmRule("newsletter", "", "", "", arm.id)])
        store.record_decision(
            trial.id, DecisionRecord(keep_testing=(arm.name,), note="wait"), {"k": 1}
        )
        store.update_trial(
            trial.id,
            trial.spec.with_changes(decision_rule=DecisionRule(min_days=3)),
            [a.id for a in trial.arms],
            reason="low volume",
        )
        store.write_scale_plan(trial.id, arm.id, ScaleSettings(20.0), trial.spec.start)
        return store.get_trial(trial.id)

    def arguments(self, name: str, trial) -> dict:
        """Arguments for ``name`` that would change ``trial`` (or read it) if allowed."""
        store = self.theirs if trial.id == self.their_trial.id else self.mine
        later = trial.spec.start + timedelta(days=10)
        arm = trial.arms[0]
        batches = store.import_batches(trial.id)
        rows = [
            ResultRow(a.spec.channel, a.spec.creative, later, 500, 5, 1, 3.0, 9.0, row=2)
            for a in trial.arms
        ]
        order = OrderRow("o-2", datetime(2026, 9, 3, 9), 70.0, OrderStatus.PAID, row=2)
        values = {
            "spec": trial.spec.with_changes(name=trial.name + " renamed"),
            "arm_ids": [a.id for a in trial.arms],
            "status": TrialStatus.RUNNING,
            "results": day_rows(trial, days=1, start=later),
            "kind": "manual",
            "rows": rows,
            "orders": [order],
            "rules": [UtmRule("email", "", "", "", arm.id)],
            "rule": UtmRule("newsletter", "", "", "", arm.id),
            "batch_id": batches[0].id,
            "record": DecisionRecord(stop=(arm.name,), note="stop it"),
            "snapshot": {"k": 2},
            "use_learned": True,
            "plan": NextRound(start=later + timedelta(days=30), reason="new landing page"),
            "arm_id": arm.id,
            "settings": ScaleSettings(30.0),
            "start": later,
            "plan_id": store.scale_plans(trial.id)[0].id,
            "ending": PlanStatus.STOPPED,
            "reason": "enough",
        }
        params = public_methods()[name].parameters
        needed = [
            p
            for p in list(params)[1:]
            if p not in TRIAL_PARAMS and params[p].default is inspect.Parameter.empty
        ]
        missing = [p for p in needed if p not in values]
        assert not missing, f"declare an argument for {name}({', '.join(missing)}) above"
        return {p: values[p] for p in needed}


@pytest.fixture
def world(engine) -> World:
    return World(engine)


def test_every_method_is_declared():
    assert set(public_methods()) == READS | set(WRITES) | CHECKS
    assert not READS & set(WRITES) and not CHECKS & (READS | set(WRITES))


def test_another_workspaces_trial_is_not_found_by_id_or_name_and_nothing_changes(world):
    missing_id = 987654
    with pytest.raises(TrialNotFound) as missing:
        world.mine.get_trial(missing_id)
    methods = {n: s for n, s in public_methods().items() if takes_a_trial(s)}
    assert len(methods) >= 20  # every method on a trial, reads and writes
    theirs = world.their_trial
    before = dump(world.engine)
    for name in sorted(methods):
        for ref in (theirs.id, theirs.name, str(theirs.id)):
            args = world.arguments(name, theirs)
            with pytest.raises(TrialNotFound) as caught:
                getattr(world.mine, name)(ref, **args)
            # The same words as for an id that does not exist: nothing tells them apart.
            assert str(caught.value) == str(missing.value).replace(str(missing_id), str(ref)), name
    assert dump(world.engine) == before
    # Sanity: the same calls on their own store do work (the test can fail).
    assert world.theirs.decisions(theirs.id) and world.theirs.orders(theirs.id)


def test_a_name_that_reads_as_another_workspaces_trial_id_finds_only_ones_own(world):
    theirs = world.their_trial
    named = world.mine.create_trial(make_spec(name=str(theirs.id)))
    # "2" is the name of my trial and the id of theirs: every read is of mine.
    assert world.mine.get_trial(str(theirs.id)).id == named.id
    assert world.mine.daily_results(str(theirs.id)) == []
    assert world.mine.import_batches(str(theirs.id)) == []
    assert world.mine.orders(str(theirs.id)) == []
    assert world.mine.utm_rules(str(theirs.id)) == []
    assert world.mine.decisions(str(theirs.id)) == []
    assert world.mine.amendments(str(theirs.id)) == []


def test_ids_of_another_workspaces_batches_decisions_and_arms_reach_nothing(world):
    mine, theirs = world.my_trial, world.their_trial
    their_batch = world.theirs.import_batches(theirs.id)[0]
    their_decision = world.theirs.decisions(theirs.id)[0]
    their_arm = theirs.arms[0]
    before = dump(world.engine)
    refused = [
        lambda: world.mine.undo_batch(mine.id, their_batch.id),
        lambda: world.mine.record_decision(
            mine.id, DecisionRecord(note="fix", corrects=their_decision.id), {}
        ),
        lambda: world.mine.save_utm_rules(mine.id, [UtmRule("x", "", "", "", their_arm.id)]),
        lambda: world.mine.update_trial(
            mine.id, mine.spec, [mine.arms[0].id, their_arm.id], reason="swap"
        ),
        lambda: world.mine.end_scale_plan(
            mine.id, world.theirs.scale_plans(theirs.id)[0].id, PlanStatus.STOPPED, "x"
        ),
        lambda: world.mine.write_scale_plan(
            mine.id, their_arm.id, ScaleSettings(9.0), mine.spec.start
        ),
        lambda: world.mine.add_results(
            mine.id,
            [r for r in day_rows(theirs, days=1, start=mine.spec.start + timedelta(days=5))],
            kind="manual",
        ),
    ]
    for call in refused:
        with pytest.raises(UserError) as caught:
            call()
        assert their_arm.name not in str(caught.value) and theirs.name not in str(caught.value)
    # Calls that match nothing of one's own change nothing.
    world.mine.delete_utm_rule(mine.id, UtmRule("newsletter", "", "", "", their_arm.id))
    world.mine.commit_results(
        mine.id, [], kind="manual", removals=[(their_arm.id, theirs.spec.start)]
    )
    after = dump(world.engine)
    # Only my own UTM rule "newsletter" went (it has the same values); theirs is intact.
    their_rules = world.theirs.utm_rules(theirs.id)
    assert [r.utm_source for r in their_rules] == ["newsletter"]
    assert {k: v for k, v in after.items() if k != "utm_rules"} == {
        k: v for k, v in before.items() if k != "utm_rules"
    }


def test_a_viewer_can_read_everything_and_write_nothing(world):
    viewer = TrialStore(world.engine, actor="vic", role=Role.VIEWER, workspace_name="Default")
    assert not viewer.can_write and viewer.role is Role.VIEWER
    trial = world.my_trial
    before = dump(world.engine)
    for name in sorted(WRITES):
        signature = public_methods()[name]
        args = world.arguments(name, trial)
        if name == "create_trial":
            args = {"spec": make_spec(name="New")}
        call = getattr(viewer, name)
        with pytest.raises(PermissionDenied) as caught:
            call(trial.id, **args) if takes_a_trial(signature) else call(**args)
        assert str(caught.value).startswith(
            f"vic is a viewer in workspace 'Default' and cannot {WRITES[name]}; nothing was "
            "changed. A workspace admin can make vic an editor"
        ), name
    with pytest.raises(PermissionDenied, match="cannot amend trials;"):
        viewer.update_trial(trial.id, trial.spec, [a.id for a in trial.arms], reason="why")
    with pytest.raises(PermissionDenied, match="vic is a viewer in workspace 'Default' and "):
        viewer.require_write("record decisions")
    world.mine.require_write("record decisions")  # an editor passes
    assert dump(world.engine) == before
    for name in sorted(READS):
        signature = public_methods()[name]
        args = world.arguments(name, trial)
        call = getattr(viewer, name)
        call(trial.id, **args) if takes_a_trial(signature) else call(**args)
    assert dump(world.engine) == before
    # The same writes by an editor do change things (the test can fail).
    world.mine.archive(trial.id)
    assert dump(world.engine) != before


def test_deleting_demo_trials_stays_in_the_workspace(world):
    world.theirs.create_trial(make_spec(name="Their demo", is_demo=True))
    world.mine.create_trial(
        make_spec(name="My demo", is_demo=True, arms=(ArmSpec("A", "a"), ArmSpec("B", "b")))
    )
    assert world.mine.delete_demo_trials().deleted == ("My demo",)
    assert [s.trial.name for s in world.theirs.list_trials()] == ["Their demo", "Theirs"]
