"""The largest values the registry stores: each refusal names the field and the limit."""

import math
from datetime import date, datetime

import pytest

from tests.conftest import make_spec
from trials.domain import (
    ArmSpec,
    OrderRow,
    ResultRow,
    Trial,
    TrialSpec,
    TrialValidationError,
    UserError,
    limits,
)
from trials.domain.imports import UtmRule
from trials.domain.verdicts import DecisionRecord


def result(**changes):
    values = dict(
        channel="WeChat",
        creative="Video A",
        day=date(2026, 9, 1),
        impressions=100,
        clicks=10,
        conversions=1,
        spend=5.0,
        revenue=20.0,
        row=7,
    )
    return ResultRow(**(values | changes))


def fields(problems):
    return {p.field: p.message for p in problems}


def test_a_row_at_the_limits_is_accepted():
    row = result(
        impressions=limits.MAX_COUNT,
        clicks=limits.MAX_COUNT,
        conversions=limits.MAX_COUNT,
        spend=float(limits.MAX_AMOUNT),
        revenue=float(limits.MAX_AMOUNT),
        channel="c" * limits.CHANNEL,
        creative="é" * limits.CREATIVE,
    )
    assert row.problems() == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "spend",
            1e13,
            "10,000,000,000,000.00 is more than the largest accepted (100,000,000,000)",
        ),
        ("revenue", 1e308, "is more than the largest accepted (100,000,000,000)"),
        ("spend", math.inf, "inf is not a finite amount"),
        ("revenue", math.nan, "nan is not a finite amount"),
        ("spend", -1.0, "must be an amount, 0 or more"),
        ("impressions", 10**20, "100,000,000,000,000,000,000 is more than the largest accepted"),
        (
            "conversions",
            limits.MAX_COUNT + 1,
            "is more than the largest accepted (1,000,000,000,000)",
        ),
        ("conversions", 1.5, "must be a whole number, 0 or more"),
        ("clicks", True, "must be a whole number, 0 or more"),
    ],
)
def test_numbers_beyond_the_limits_are_named_with_the_largest_accepted(field, value, message):
    found = fields(result(**{field: value}).problems())
    assert message in found[field]


def test_clicks_above_impressions_and_long_or_blank_arm_names():
    assert fields(result(clicks=101).problems()) == {
        "clicks": "101 clicks but only 100 impressions"
    }
    found = fields(result(channel="x" * 81, creative="  ").problems())
    assert found["channel"] == "is 81 characters long; at most 80 are accepted for a channel name"
    assert found["creative"] == "the creative is blank; every row needs one"


def order(**changes):
    values = dict(order_id="A-1", ordered_at=datetime(2026, 9, 2, 10), amount=88.0, status="paid")
    return OrderRow(**(values | changes))


def test_orders_beyond_the_limits():
    assert order().problems() == []
    long_but_fine = order(
        order_id="号" * limits.ORDER_ID,
        utm_source="😀" * limits.UTM_VALUE,
        utm_campaign="😀" * limits.UTM_VALUE,
        channel="😀" * limits.ORDER_ARM_TEXT,
    )
    assert long_but_fine.problems() == []
    found = fields(
        order(
            order_id="9" * 10_240, amount=1e13, utm_content="x" * 300, creative="y" * 256
        ).problems()
    )
    assert found == {
        "order_id": "the order id is 10,240 characters long; at most 120 are accepted; check "
        "that this column holds order ids",
        "amount": "10,000,000,000,000.00 is more than the largest accepted (100,000,000,000); "
        "check the column and its decimal mark",
        "utm_content": "is 300 characters long; at most 150 are accepted",
        "creative": "is 256 characters long; at most 255 are accepted",
    }
    assert fields(order(amount=math.inf).problems()) == {"amount": "inf is not a finite amount"}


def test_the_touch_key_is_fixed_length_and_ignores_case_like_the_touch():
    a = order(utm_source="WeChat", utm_content="Video A" * 40)
    b = order(utm_source="wechat", utm_content="video a" * 40)
    assert a.touch_key == b.touch_key and len(a.touch_key) == 64
    assert a.touch_key != order(utm_source="weibo").touch_key


def test_utm_rules_are_limited_and_need_a_value():
    assert UtmRule("wechat", "", "", "", 1).problems() == []
    assert fields(UtmRule("", "x" * 151, "", "", 1).problems()) == {
        "utm_medium": "is 151 characters long; at most 150 are accepted"
    }
    assert fields(UtmRule(" ", "", "", "", 1).problems()) == {
        "utm": "a UTM rule needs at least one UTM value"
    }


def test_a_budget_beyond_what_a_trial_holds_is_refused_where_it_is_typed():
    values = {
        "name": "Big",
        "primary_metric": "roas",
        "break_even_roas": 2,
        "currency": "CNY",
        "start": "2026-09-01",
        "end": "2026-09-28",
        "arms": [{"channel": "A", "creative": "x"}, {"channel": "B", "creative": "y"}],
    }
    assert TrialSpec.build(**values, budget=limits.MAX_TOTAL_AMOUNT).budget == 9e12
    for budget in (1e13, "1e308"):
        with pytest.raises(TrialValidationError) as refused:
            TrialSpec.build(**values, budget=budget)
        assert (
            "is more than the largest accepted (9,000,000,000,000)"
            in (refused.value.for_field("budget")[0])
        )
    for budget in ("inf", "nan"):
        with pytest.raises(
            TrialValidationError, match=r"budget: '(inf|nan)' is not a finite number"
        ):
            TrialSpec.build(**values, budget=budget)
    with pytest.raises(TrialValidationError) as refused:
        TrialSpec.build(**values, budget=1, hypothesis="h" * (limits.LONG_TEXT + 1))
    assert refused.value.for_field("hypothesis") == [
        "is 10,001 characters long; at most 10,000 are accepted"
    ]


def test_trial_and_arm_names_keep_their_limits():
    make_spec(name="名" * limits.TRIAL_NAME, arms=(ArmSpec("c" * 80, "x"), ArmSpec("d", "y")))
    with pytest.raises(TrialValidationError) as refused:
        make_spec(name="n" * 121, arms=(ArmSpec("c" * 81, "x"), ArmSpec("d", "y" * 121)))
    assert {p.field for p in refused.value.problems} == {
        "name",
        "arms[0].channel",
        "arms[1].creative",
    }


def test_user_names_and_decision_texts():
    assert limits.user_name_problems("Ana") == []
    assert fields(limits.user_name_problems("u" * 200)) == {
        "user": "is 200 characters long; at most 120 are accepted"
    }
    assert fields(limits.user_name_problems("  ")) == {"user": "is empty: name who is acting"}
    stored = Trial(1, make_spec(), (), datetime(2026, 1, 1), "a", datetime(2026, 1, 1), "a")
    with pytest.raises(UserError, match="the note is 10,001 characters long"):
        DecisionRecord(note="n" * 10_001).summary(stored)
