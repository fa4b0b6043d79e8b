"""The domain's limits hold the same on SQLite and PostgreSQL: values at the limits are
stored on both (in 4-byte characters too, so indexes fit), values beyond them are refused
on both with the same message, and nothing is written then."""

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from tests.conftest import make_spec
from trials.domain import (
    ArmSpec,
    DailyResult,
    OrderRow,
    ResultRow,
    TrialValidationError,
    UserError,
    limits,
)
from trials.domain.imports import UtmRule
from trials.storage import schema
from trials.storage.store import TrialStore

WIDE = "😀"  # four bytes in UTF-8


def _nothing_stored(store, engine):
    with engine.connect() as conn:
        for table in (schema.daily_results, schema.orders, schema.import_batches):
            assert conn.scalar(select(func.count()).select_from(table)) == 0


def test_the_longest_accepted_texts_are_stored_on_every_backend(store):
    spec = make_spec(
        name=WIDE * limits.TRIAL_NAME,
        arms=(
            ArmSpec(WIDE * limits.CHANNEL, WIDE * limits.CREATIVE),
            ArmSpec("号" * limits.CHANNEL, "号" * limits.CREATIVE),
        ),
    )
    trial = store.create_trial(spec)
    assert store.get_trial(trial.id).spec == spec
    order = OrderRow(
        WIDE * limits.ORDER_ID,
        datetime(2026, 9, 2, 10),
        float(limits.MAX_AMOUNT),
        "paid",
        utm_source=WIDE * limits.UTM_VALUE,
        utm_medium=WIDE * limits.UTM_VALUE,
        utm_campaign=WIDE * limits.UTM_VALUE,
        utm_content=WIDE * limits.UTM_VALUE,
        channel=WIDE * limits.ORDER_ARM_TEXT,
        creative=WIDE * limits.ORDER_ARM_TEXT,
    )
    outcome = store.commit_orders(trial.id, [order], file_name=WIDE * limits.FILE_NAME)
    assert outcome.batch.file_name == WIDE * limits.FILE_NAME
    [stored] = store.orders(trial.id)
    assert (stored.order_id, stored.utm, stored.amount) == (
        order.order_id,
        order.utm,
        order.amount,
    )
    # The same order again is recognised (its touch key matches), not stored twice.
    assert store.commit_orders(trial.id, [order]).changed_nothing
    rule = UtmRule(*order.utm, trial.arms[0].id)
    store.save_utm_rules(trial.id, [rule])
    assert store.utm_rules(trial.id) == [rule]
    long_actor = TrialStore(store.engine, actor=WIDE * limits.USER_NAME)
    assert long_actor.archive(trial.id).updated_by == WIDE * limits.USER_NAME


def test_texts_beyond_the_limits_are_refused_alike_on_every_backend(store, engine):
    trial = store.create_trial(make_spec())
    order = OrderRow("9" * 10_240, datetime(2026, 9, 2), 10.0, "paid", utm_source="x" * 300)
    with pytest.raises(UserError) as refused:
        store.commit_orders(trial.id, [order])
    assert str(refused.value) == (
        "2 orders cannot be stored: entry 1, order_id: the order id is 10,240 characters "
        "long; at most 120 are accepted; check that this column holds order ids; entry 1, "
        "utm_source: is 300 characters long; at most 150 are accepted; nothing was written"
    )
    with pytest.raises(UserError, match="UTM rule: utm_campaign: is 300 characters long"):
        store.save_utm_rules(trial.id, [UtmRule("", "", "c" * 300, "", trial.arms[0].id)])
    with pytest.raises(UserError, match="the file name is 256 characters long; at most 255"):
        store.commit_orders(
            trial.id, [OrderRow("1", datetime(2026, 9, 2), 1.0, "paid")], file_name="f" * 256
        )
    with pytest.raises(UserError, match=r"^the user name is 200 characters long; at most 120"):
        TrialStore(engine, actor="u" * 200)
    with pytest.raises(TrialValidationError, match="reason: is 10,001 characters long"):
        store.update_trial(trial.id, trial.spec, [a.id for a in trial.arms], reason="r" * 10_001)
    _nothing_stored(store, engine)
    assert store.utm_rules(trial.id) == [] and store.amendments(trial.id) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("spend", 1e13, "row 4, spend: 10,000,000,000,000.00 is more than the largest accepted"),
        ("impressions", 10**20, "row 4, impressions: 100,000,000,000,000,000,000 is more than"),
        ("revenue", 1e308, "row 4, revenue: "),
        ("revenue", float("inf"), "row 4, revenue: inf is not a finite amount"),
        ("spend", float("nan"), "row 4, spend: nan is not a finite amount"),
    ],
)
def test_numbers_too_big_for_the_database_are_refused_before_it(
    store, engine, field, value, message
):
    trial = store.create_trial(make_spec())
    values = dict(impressions=100, clicks=10, conversions=1, spend=5.0, revenue=20.0)
    good = ResultRow("WeChat", "Video A", date(2026, 9, 1), **values, row=3)
    bad = ResultRow("Weibo", "Image B", date(2026, 9, 1), **(values | {field: value}), row=4)
    with pytest.raises(UserError, match=r"^1 rows cannot be stored: ") as refused:
        store.commit_results(trial.id, [good, bad], kind="daily")
    assert message in str(refused.value) and str(refused.value).endswith("nothing was written")
    _nothing_stored(store, engine)


def test_a_trials_totals_stay_within_what_the_database_sums(store, engine):
    trial = store.create_trial(make_spec(end=date(2027, 12, 31)))
    arm = trial.arms[0]
    big = [
        DailyResult(arm.id, date(2026, 9, 1 + d), 0, 0, 0, float(limits.MAX_AMOUNT), 0.0)
        for d in range(25)
    ]
    store.add_results(trial.id, big, kind="manual")
    rows = [
        ResultRow(
            arm.spec.channel,
            arm.spec.creative,
            date(2026, 10 + m, 1 + d),
            0,
            0,
            0,
            float(limits.MAX_AMOUNT),
            0.0,
        )
        for m in range(3)
        for d in range(28)
    ]
    with pytest.raises(
        UserError,
        match=r"total spend to 10,900,000,000,000\.00, more than the largest total a trial "
        r"holds \(9,000,000,000,000\)",
    ):
        store.commit_results(trial.id, rows, kind="daily")
    assert store.arm_totals(trial.id)[arm.id].spend == 25 * limits.MAX_AMOUNT
    assert len(store.import_batches(trial.id)) == 1
    # Replacing rows counts what they replace: the same total again fits.
    same_again = [
        ResultRow(arm.spec.channel, arm.spec.creative, r.day, 0, 0, 0, r.spend, 1.0) for r in big
    ]
    store.commit_results(trial.id, same_again, kind="daily", replace=True)
    assert store.arm_totals(trial.id)[arm.id].revenue == 25.0


@pytest.mark.parametrize("ref", ["9" * 50_000, 10**30, -1, "1\x00", "²", "n" * 500])
def test_any_trial_reference_is_found_or_not_found_never_a_database_error(store, ref):
    from trials.storage.store import TrialNotFound

    store.create_trial(make_spec())
    with pytest.raises(TrialNotFound, match="no trial '"):
        store.get_trial(ref)


def test_a_nul_character_is_refused_alike_on_every_backend(store, engine):
    trial = store.create_trial(make_spec())
    order = OrderRow("A\x00-1", datetime(2026, 9, 2), 10.0, "paid", utm_source="wechat")
    with pytest.raises(UserError, match="order_id: the order id contains a NUL character"):
        store.commit_orders(trial.id, [order])
    with pytest.raises(TrialValidationError, match="name: contains a NUL character"):
        from trials.domain import TrialSpec

        TrialSpec.build(
            name="bad\x00name",
            primary_metric="roas",
            break_even_roas=2,
            currency="CNY",
            start="2026-09-01",
            end="2026-09-02",
            budget=1,
            arms=[{"channel": "A", "creative": "x\x00"}, {"channel": "B", "creative": "y"}],
        )
    _nothing_stored(store, engine)
