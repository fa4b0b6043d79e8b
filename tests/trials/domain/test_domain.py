from datetime import date

import pytest

from tests.conftest import make_spec
from trials.domain import (
    ArmSpec,
    DailyResult,
    DecisionRule,
    PrimaryMetric,
    TrialSpec,
    TrialStatus,
    TrialValidationError,
)

VALID = dict(
    name="Search headlines",
    primary_metric="conversion_rate",
    break_even_roas=2.5,
    currency="usd",
    start="2026-09-01",
    end="2026-09-21",
    budget=3000,
    arms=[
        {"channel": "Google", "creative": "A", "control": True},
        {"channel": "Google", "creative": "B"},
    ],
)


def problems_of(**values) -> dict[str, list[str]]:
    with pytest.raises(TrialValidationError) as caught:
        TrialSpec.build(**values)
    out: dict[str, list[str]] = {}
    for p in caught.value.problems:
        out.setdefault(p.field, []).append(p.message)
    return out


def test_build_converts_loose_values():
    spec = TrialSpec.build(**VALID)
    assert spec.currency == "USD"
    assert spec.start == date(2026, 9, 1)
    assert spec.primary_metric is PrimaryMetric.CONVERSION_RATE
    assert spec.status is TrialStatus.DRAFT
    assert spec.decision_rule == DecisionRule()
    assert [a.name for a in spec.arms] == ["Google · A", "Google · B"]
    assert spec.arms[0].control and not spec.arms[1].control


def test_gross_margin_gives_break_even():
    spec = TrialSpec.build(**(VALID | {"break_even_roas": None, "gross_margin": 0.4}))
    assert spec.break_even_roas == pytest.approx(2.5)
    assert spec.gross_margin == 0.4


def test_margin_and_break_even_must_agree():
    found = problems_of(**(VALID | {"break_even_roas": 3.0, "gross_margin": 0.4}))
    assert "disagrees with gross margin" in found["break_even_roas"][0]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "  "}, "name", "is empty"),
        ({"break_even_roas": 0}, "break_even_roas", "above 0"),
        ({"break_even_roas": -1.5}, "break_even_roas", "above 0"),
        ({"break_even_roas": None}, "break_even_roas", "missing"),
        ({"gross_margin": 1.5, "break_even_roas": None}, "gross_margin", "between 0 and 1"),
        ({"end": "2026-08-01"}, "end", "before the start"),
        ({"budget": -1}, "budget", "0 or more"),
        ({"budget": "lots"}, "budget", "not a number"),
        ({"start": "01/09/2026"}, "start", "YYYY-MM-DD"),
        ({"currency": "¥"}, "currency", "currency code"),
        ({"primary_metric": "ctr"}, "primary_metric", "not one of"),
        ({"status": "paused"}, "status", "not one of"),
        ({"arms": [{"channel": "Google", "creative": "A"}]}, "arms", "at least two arms"),
        ({"arms": []}, "arms", "at least two arms"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"decision_rule": {"min_days": 0}}, "decision_rule.min_days", "at least 1"),
        (
            {"decision_rule": {"probability_threshold": 1.2}},
            "decision_rule.probability_threshold",
            "between 0.5 and 1",
        ),
        ({"decision_rule": {"patience": 3}}, "decision_rule.patience", "unknown setting"),
    ],
)
def test_each_rule_names_its_field(changes, field, words):
    found = problems_of(**(VALID | changes))
    assert field in found, found
    assert any(words in m for m in found[field]), found[field]


def test_every_problem_is_reported_at_once():
    found = problems_of(
        name="",
        primary_metric="roas",
        break_even_roas=0,
        currency="CNY",
        start="2026-09-10",
        end="2026-09-01",
        budget=-5,
        arms=[{"channel": "", "creative": "A"}],
    )
    assert {"name", "break_even_roas", "end", "budget", "arms", "arms[0].channel"} <= set(found)


def test_arm_names_unique_ignoring_case_and_spaces():
    found = problems_of(
        **(
            VALID
            | {
                "arms": [
                    {"channel": "WeChat", "creative": "Video A"},
                    {"channel": "wechat ", "creative": "video  a"},
                ]
            }
        )
    )
    assert "appears twice (arms 1 and 2)" in found["arms[1]"][0]


def test_at_most_one_control():
    arms = [{"channel": "X", "creative": c, "control": True} for c in "AB"]
    assert "at most one arm as the control" in problems_of(**(VALID | {"arms": arms}))["arms"][0]


def test_budget_shares_must_fit():
    over = [
        {"channel": "X", "creative": "A", "budget_share": 0.7},
        {"channel": "X", "creative": "B", "budget_share": 0.6},
    ]
    assert "130.0%" in problems_of(**(VALID | {"arms": over}))["arms"][0]
    under = [
        {"channel": "X", "creative": "A", "budget_share": 0.3},
        {"channel": "X", "creative": "B", "budget_share": 0.3},
    ]
    assert "must add up to 100 %" in problems_of(**(VALID | {"arms": under}))["arms"][0]
    bad = [{"channel": "X", "creative": "A", "budget_share": 2}, {"channel": "X", "creative": "B"}]
    assert "arms[0].budget_share" in problems_of(**(VALID | {"arms": bad}))


def test_blank_shares_split_the_rest():
    spec = make_spec(
        arms=(ArmSpec("X", "A", budget_share=0.5), ArmSpec("X", "B"), ArmSpec("X", "C"))
    )
    assert spec.planned_shares() == pytest.approx((0.5, 0.25, 0.25))
    assert make_spec().planned_shares() == (0.5, 0.5)


def test_direct_construction_validates_too():
    with pytest.raises(TrialValidationError) as caught:
        make_spec(end=date(2026, 8, 1), arms=(ArmSpec("X", "A"),))
    assert {p.field for p in caught.value.problems} == {"end", "arms"}


def test_text_is_tidied_not_rewritten():
    spec = make_spec(name="  <script>alert(1)</script>  ", currency=" cny ")
    assert spec.name == "<script>alert(1)</script>"
    assert spec.currency == "CNY"


def test_decision_rule_overrides_merge_over_defaults():
    rule = DecisionRule.from_dict({"min_days": 10})
    assert rule.min_days == 10
    assert rule.min_conversions_per_arm == DecisionRule().min_conversions_per_arm


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"clicks": 101}, "clicks"),
        ({"impressions": -1}, "impressions"),
        ({"spend": float("nan")}, "spend"),
        ({"revenue": float("inf")}, "revenue"),
        ({"conversions": 1.5}, "conversions"),
    ],
)
def test_daily_result_rejects_impossible_numbers(changes, field):
    values = dict(
        arm_id=1,
        day=date(2026, 9, 1),
        impressions=100,
        clicks=10,
        conversions=2,
        spend=12.5,
        revenue=40.0,
    )
    with pytest.raises(TrialValidationError) as caught:
        DailyResult(**(values | changes))
    assert caught.value.problems[0].field == field


def test_more_conversions_than_clicks_is_allowed():
    # View-through conversions: platforms report them; the importer warns, the model copes.
    DailyResult(
        arm_id=1,
        day=date(2026, 9, 1),
        impressions=100,
        clicks=2,
        conversions=5,
        spend=1.0,
        revenue=10.0,
    )


@pytest.mark.parametrize("value", [True, False, "yes"])
def test_is_demo_cannot_be_given_when_building_a_trial(value):
    values = {
        "name": "Mine",
        "primary_metric": "roas",
        "break_even_roas": 2,
        "currency": "CNY",
        "start": "2026-09-01",
        "end": "2026-09-28",
        "budget": 1000,
        "arms": [{"channel": "A", "creative": "x"}, {"channel": "B", "creative": "y"}],
    }
    assert TrialSpec.build(**values).is_demo is False
    with pytest.raises(TrialValidationError) as refused:
        TrialSpec.build(**values, is_demo=value)
    [message] = refused.value.for_field("is_demo")
    assert message.startswith("demo trials come only from the demo loader")
