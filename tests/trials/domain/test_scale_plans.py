"""The scale plan's schedule and the checks on its settings (pure)."""

import itertools
from datetime import UTC, date, datetime

import pytest

from trials.domain import TrialValidationError
from trials.domain.scale_plans import PlanStatus, ScalePlan, ScaleSettings, step_at


def _plan(**settings) -> ScalePlan:
    return ScalePlan(
        id=1,
        trial_id=1,
        arm_id=1,
        arm_name="WeChat · Video",
        settings=ScaleSettings(**({"base_daily_spend": 100.0} | settings)),
        break_even_roas=2.0,
        start=date(2026, 12, 1),
        created_at=datetime(2026, 11, 30, tzinfo=UTC),
        created_by="tester",
    )


def test_the_schedule_steps_the_spend_by_a_factor_every_step_days():
    steps = _plan().schedule(4)
    assert [s.index for s in steps] == [0, 1, 2, 3]
    assert [s.daily_spend for s in steps] == pytest.approx([100, 150, 225, 337.5])
    assert steps[0].start == date(2026, 12, 1) and steps[0].end == date(2026, 12, 7)
    assert steps[1].start == date(2026, 12, 8) and steps[3].end == date(2026, 12, 28)
    # Consecutive steps tile the calendar: no gap, no overlap.
    for a, b in itertools.pairwise(steps):
        assert (b.start - a.end).days == 1


def test_step_of_a_day_and_the_planned_spend_that_day():
    plan = _plan(step=0.25, step_days=3)
    assert plan.step_of(date(2026, 11, 30)) is None
    assert plan.planned_spend_on(date(2026, 11, 30)) is None
    assert plan.step_of(date(2026, 12, 3)) == 0
    assert plan.step_of(date(2026, 12, 4)) == 1
    assert plan.planned_spend_on(date(2026, 12, 7)) == pytest.approx(156.25)
    assert step_at(date(2026, 12, 1), 7, date(2026, 12, 15)) == 2
    assert plan.step_entry(2) == plan.schedule(3)[2]


def test_a_plan_starts_active_and_says_its_stop_condition():
    plan = _plan(stop_probability=0.9)
    assert plan.active and plan.status is PlanStatus.ACTIVE
    assert "below break-even 2 with probability 90% or more" in plan.stop_condition()


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"base_daily_spend": 0.0}, "base_daily_spend"),
        ({"base_daily_spend": float("nan")}, "base_daily_spend"),
        ({"base_daily_spend": 1e12}, "base_daily_spend"),
        ({"step": 0.0}, "step"),
        ({"step": 5.0}, "step"),
        ({"step_days": 2}, "step_days"),
        ({"step_days": 7.5}, "step_days"),
        ({"stop_probability": 0.3}, "stop_probability"),
        ({"stop_probability": 1.0}, "stop_probability"),
    ],
)
def test_bad_settings_are_refused_each_with_its_field(settings, field):
    with pytest.raises(TrialValidationError) as e:
        ScaleSettings(**({"base_daily_spend": 100.0} | settings)).check()
    assert [p.field for p in e.value.problems] == [field]


def test_good_settings_pass_and_compare_with_a_tolerance():
    s = ScaleSettings(100.0, 0.5, 7, 0.8).check()
    plan = _plan()
    assert plan.same_settings(s, date(2026, 12, 1))
    assert not plan.same_settings(s, date(2026, 12, 2))
    assert not plan.same_settings(ScaleSettings(100.0, 0.5, 7, 0.9), date(2026, 12, 1))
