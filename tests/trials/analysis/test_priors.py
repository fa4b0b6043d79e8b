"""What past trials teach, read from the store: finished trials, money per currency, the
planner's baseline, and a trial's opt-in and overrides."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import make_spec
from trials.analysis.planning import workspace_baseline
from trials.analysis.priors import past_trials, trial_model_spec, workspace_priors
from trials.domain import ArmSpec, DailyResult, TrialStatus, UserError
from trials.domain.accounts import Role
from trials.storage.store import TrialStore

TODAY = date(2026, 12, 1)


def _trial(store, name, currency, cpc, *, channel="Search", days=10, status=None, end=None):
    spec = make_spec(
        name=name,
        currency=currency,
        start=date(2026, 10, 1),
        end=end or date(2026, 10, 28),
        arms=(ArmSpec(channel, "A", control=True), ArmSpec(channel, "B")),
    )
    trial = store.create_trial(spec)
    rows = [
        DailyResult(arm.id, date(2026, 10, 1) + timedelta(days=d), 2000, 40, 2, 40 * cpc, 100.0)
        for d in range(days)
        for arm in trial.arms
    ]
    store.add_results(trial.id, rows, kind="manual", file_name=None, digest=None)
    if status is not None:
        store.set_status(trial.id, status)
    return trial


def test_only_finished_trials_with_data_teach(store):
    _trial(store, "Ended", "USD", 1.0)
    _trial(store, "Still running", "USD", 1.0, end=date(2027, 1, 31))
    _trial(store, "Decided early", "USD", 1.0, end=date(2027, 1, 31), status=TrialStatus.DECIDED)
    store.create_trial(make_spec(name="No data", end=date(2026, 10, 2)))
    assert [t.name for t in past_trials(store, TODAY)] == ["Ended", "Decided early"]


def test_no_finished_trial_means_no_learned_prior_and_says_so(store):
    found = workspace_priors(store, today=TODAY)
    assert found.rows() == [] and "nothing to learn from" in found.notes()[0]
    assert workspace_baseline(store, today=TODAY) is None


def test_the_planner_never_mixes_currencies(store):
    for i in range(3):
        _trial(store, f"China {i}", "CNY", 8.0)
    _trial(store, "America", "USD", 1.0)
    cny = workspace_baseline(store, "CNY", today=TODAY)
    usd = workspace_baseline(store, "USD", today=TODAY)
    assert cny.cpc == pytest.approx(8.0) and usd.cpc == pytest.approx(1.0)
    assert cny.revenue_per_conversion == pytest.approx(50.0)
    # Several currencies and none named: rates, but no money at all.
    either = workspace_baseline(store, today=TODAY)
    assert either.cpc is None and either.revenue_per_conversion is None
    assert either.currencies == ("CNY", "USD") and either.cvr == pytest.approx(0.05, rel=0.05)
    assert workspace_baseline(store, "EUR", today=TODAY).cpc is None
    # The rates' strength is the learned prior's, never the 320 clicks per trial × 4.
    assert cny.strength <= 2 * 10 * 40


def test_a_trial_opts_in_and_its_analysis_uses_its_channels_prior(store):
    for i in range(3):
        _trial(store, f"Past {i}", "USD", 1.0)
    new = _trial(store, "New", "USD", 1.0, end=date(2027, 1, 31), days=2)
    assert trial_model_spec(store, new, today=TODAY).note is None  # off by default
    store.set_trial_priors(new.id, True, [])
    choice = trial_model_spec(store, new, today=TODAY)
    assert choice.spec.priors.cvr_mean == pytest.approx(0.05, rel=0.05)
    assert choice.spec.priors.ctr_mean == pytest.approx(0.02, rel=0.05)
    assert "learned from past Search trials" in choice.note
    setting = store.trial_priors(new.id)
    assert setting.use_learned and setting.created_by == store.actor


def test_an_override_replaces_the_learned_prior_and_is_recorded(store):
    _trial(store, "Past", "USD", 1.0)
    new = _trial(store, "New", "USD", 1.0, end=date(2027, 1, 31), days=2)
    store.set_trial_priors(
        new.id, True, [{"channel": "Search", "stage": "cvr", "mean": 0.1, "strength": 400}]
    )
    choice = trial_model_spec(store, new, today=TODAY)
    assert choice.used["cvr"] == (0.1, 400, "set by hand")
    assert len(store.trial_priors_history(new.id)) == 1


def test_bad_overrides_are_refused_and_change_nothing(store):
    new = _trial(store, "New", "USD", 1.0)
    with pytest.raises(UserError, match=r"no channel 'Nope'.*mean rate must be between"):
        store.set_trial_priors(
            new.id,
            True,
            [
                {"channel": "Nope", "stage": "cvr", "mean": 0.1, "strength": 1},
                {"channel": "Search", "stage": "ctr", "mean": 1.5, "strength": 1},
            ],
        )
    assert store.trial_priors_history(new.id) == []
    assert not store.trial_priors(new.id).use_learned


def test_a_viewer_cannot_change_a_trials_priors(store):
    new = _trial(store, "New", "USD", 1.0)
    viewer = TrialStore(store.engine, actor="viewer", role=Role.VIEWER)
    with pytest.raises(UserError):
        viewer.set_trial_priors(new.id, True, [])
    assert store.trial_priors_history(new.id) == []
