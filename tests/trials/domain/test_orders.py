"""Own orders: import, attribution counted once, reconciliation, and the models' source."""

import json
from datetime import date, datetime

import pytest

from tests.conftest import make_spec
from tests.trials.cli.test_cli import run, write
from tests.trials.ingest.test_imports import FILES, create
from trials.analysis.result import funnel_data
from trials.analysis.sources import reconcile
from trials.domain import AttributionRule, OrderRow, ResultRow, ResultsChoice, ResultSource
from trials.domain.attribution import attribute, resolve_arm
from trials.domain.imports import UtmRule
from trials.ingest.orders import parse_status


def test_orders_file_reconciles_against_channel_reports(capsys, tmp_path):
    name = create(capsys, tmp_path)
    run(capsys, "import", name, str(FILES / "google_ads_report.csv"))
    # WeChat's conversions go from the channel's 7 to own orders' 1: a big change.
    code, out, err = run(capsys, "orders", name, str(FILES / "own_orders.csv"))
    assert code == 1 and "WeChat · Video A 7 → 1" in err and "--accept-effect" in err
    assert json.loads(run(capsys, "imports", name, "--json")[1])[-1]["kind"] == "daily"
    code, out, err = run(capsys, "orders", name, str(FILES / "own_orders.csv"), "--accept-effect")
    assert code == 0, err
    assert "1 orders fall outside the trial's dates" in out
    data = json.loads(run(capsys, "reconcile", name, "--json")[1])
    assert data["source_in_use"] == "orders" and data["attribution_rule"] == "last_touch"
    wechat, weibo = data["arms"]
    # 1001 to WeChat; 1002 and 1004 (last touch: Weibo at 09:05) to Weibo.
    assert (wechat["order_conversions"], wechat["order_revenue"]) == (1, 120.0)
    assert (weibo["order_conversions"], weibo["order_revenue"]) == (2, 230.0)
    assert (wechat["channel_conversions"], wechat["conversions_difference"]) == (7, 6)
    assert wechat["conversions_difference_pct"] == pytest.approx(6.0)
    assert weibo["revenue_difference"] == pytest.approx(579.50 - 230.0)
    assert data["excluded"] == {
        "cancelled": {"orders": 1, "amount": 60.0},
        "refunded": {"orders": 1, "amount": 99.0},
    }
    assert data["shared_orders"] == [
        {
            "order_id": "1004",
            "arms": ["WeChat · Video A", "Weibo · Image B"],
            "credited": [{"arm": "Weibo · Image B", "share": 1.0}],
        }
    ]
    assert data["unattributed"][0]["utm_source"] == "newsletter"
    assert data["outside_dates"] == {"orders": 1, "amount": 30.0}
    shown = json.loads(run(capsys, "show", name, "--json")[1])
    assert shown["arms"][1]["order_totals"]["conversions"] == 2
    assert shown["arms"][1]["totals"]["conversions"] == 3  # the channel's own count stays


def test_split_rule_and_utm_rules_through_the_cli(capsys, tmp_path):
    name = create(capsys, tmp_path)
    run(capsys, "orders", name, str(FILES / "own_orders.csv"))
    assert run(capsys, "set", name, "--attribution", "split")[0] == 0
    code, _, _ = run(capsys, "utm", name, "--source", "newsletter", "--arm", "WeChat/Video A")
    assert code == 0
    data = json.loads(run(capsys, "reconcile", name, "--json")[1])
    wechat, weibo = data["arms"]
    # 1004 splits 75/75; newsletter order 1006 now goes to WeChat by the rule.
    assert wechat["order_revenue"] == pytest.approx(120 + 75 + 45.5)
    assert weibo["order_revenue"] == pytest.approx(80 + 75)
    assert wechat["order_conversions"] + weibo["order_conversions"] == 4  # each order once
    assert data["unattributed"] == []
    rules = json.loads(run(capsys, "utm", name, "--json")[1])
    assert rules == [
        {
            "utm_source": "newsletter",
            "utm_medium": "",
            "utm_campaign": "",
            "utm_content": "",
            "arm": "WeChat · Video A",
        }
    ]


def test_chinese_orders_file(capsys, tmp_path):
    name = create(capsys, tmp_path)
    code, out, err = run(capsys, "orders", name, str(FILES / "orders_gb18030.csv"), "--json")
    assert code == 0, err
    assert json.loads(out)["mapping"]["status"] == "订单状态"
    data = json.loads(run(capsys, "reconcile", name, "--json")[1])
    assert data["arms"][0]["order_revenue"] == 1200.0
    assert data["excluded"]["refunded"] == {"orders": 1, "amount": 300.0}


def test_orders_reimport_changes_nothing_and_a_new_status_needs_replace(capsys, tmp_path):
    name = create(capsys, tmp_path)
    path = FILES / "own_orders.csv"
    run(capsys, "orders", name, str(path))
    again = json.loads(run(capsys, "orders", name, str(path), "--json")[1])
    assert again["written"] is False
    refunded = path.read_text().replace(
        "1001,2026-09-01 10:00,120.00,paid", "1001,2026-09-01 10:00,120.00,refunded"
    )
    new_path = write(tmp_path, "orders2.csv", refunded)
    code, _, err = run(capsys, "orders", name, new_path)
    assert code == 1 and "--replace" in err
    preview = json.loads(run(capsys, "orders", name, new_path, "--dry-run", "--json")[1])
    assert preview["changed_orders"][0]["after"]["status"] == "refunded"
    # WeChat's only order refunded: 1 → 0 conversions needs its own confirmation.
    assert preview["needs_confirmation"] and "WeChat · Video A 1 → 0" in preview["effect_warning"]
    assert run(capsys, "orders", name, new_path, "--replace")[0] == 1
    assert run(capsys, "orders", name, new_path, "--replace", "--accept-effect")[0] == 0
    assert (
        json.loads(run(capsys, "reconcile", name, "--json")[1])["arms"][0]["order_conversions"] == 0
    )
    assert run(capsys, "undo", name, "2")[0] == 0
    assert (
        json.loads(run(capsys, "reconcile", name, "--json")[1])["arms"][0]["order_conversions"] == 1
    )


def test_bad_order_rows_are_named(capsys, tmp_path):
    name = create(capsys, tmp_path)
    data = (
        "order id,created at,amount,status,utm_source,utm_content\n"
        ",2026-09-01,10,paid,wechat,video-a\n"
        "2,2026-09-41,10,paid,wechat,video-a\n"
        "3,2026-09-01,-5,paid,wechat,video-a\n"
        "4,2026-09-01,10,lost,wechat,video-a\n"
        "5,2026-09-01,10,paid,wechat,video-a\n"
        "5,2026-09-01,10,paid,wechat,video-a\n"
    )
    code, _, err = run(capsys, "orders", name, write(tmp_path, "o.csv", data))
    assert code == 1
    for where in (
        "row 2, column 'order id': the order id is blank",
        "row 3, column 'created at'",
        "row 4, column 'amount': is negative",
        "row 5, column 'status': 'lost' is not an order status",
        "row 7, column 'order id': order 5 is also on row 6",
    ):
        assert where in err
    assert json.loads(run(capsys, "imports", name, "--json")[1]) == []


# -- attribution as pure functions ------------------------------------------------------------


def order(order_id, hour, source, content, amount=100.0, status="paid", day=1):
    return OrderRow(
        order_id=order_id,
        ordered_at=datetime(2026, 9, day, hour),
        amount=amount,
        status=status,
        utm_source=source,
        utm_content=content,
    )


@pytest.fixture
def trial(store):
    return store.create_trial(make_spec())


def test_last_touch_split_and_ties(trial):
    a, b = (arm.id for arm in trial.arms)
    touches = [order("1", 9, "wechat", "video a"), order("1", 10, "weibo", "image_b")]
    last = attribute(trial, touches, [], AttributionRule.LAST_TOUCH)
    assert [(r.arm_id, r.conversions, r.revenue) for r in last.results] == [(b, 1, 100.0)]
    split = attribute(trial, touches, [], AttributionRule.SPLIT)
    assert sorted((r.arm_id, r.revenue) for r in split.results) == [(a, 50.0), (b, 50.0)]
    assert sum(r.conversions for r in split.results) == 1
    tie = [order("1", 9, "wechat", "video-a"), order("1", 9, "weibo", "image-b")]
    tied = attribute(trial, tie, [], AttributionRule.LAST_TOUCH)
    assert sorted(r.revenue for r in tied.results) == [50.0, 50.0]


def test_fractional_credits_round_to_whole_orders_per_day(trial):
    touches = [
        t
        for i in range(3)
        for t in (order(str(i), 9, "wechat", "video-a"), order(str(i), 9, "weibo", "image-b"))
    ]
    result = attribute(trial, touches, [], AttributionRule.SPLIT)
    assert sorted(r.conversions for r in result.results) == [1, 2]
    assert sum(r.revenue for r in result.results) == pytest.approx(300.0)


def test_the_most_final_status_wins(trial):
    touches = [
        order("1", 9, "wechat", "video-a"),
        order("1", 12, "wechat", "video-a", status="refunded"),
    ]
    # Same touch twice is refused at import; here two touches differ only in medium.
    touches[1] = OrderRow(
        "1", datetime(2026, 9, 1, 12), 100.0, "refunded", "wechat", "cpc", "", "video-a"
    )
    result = attribute(trial, touches, [])
    assert result.results == () and result.excluded == {"refunded": (1, 100.0)}


def test_the_most_specific_utm_rule_wins(trial):
    a, b = (arm.id for arm in trial.arms)
    rules = [UtmRule("ads", "", "", "", a), UtmRule("ads", "", "", "x", b)]
    assert resolve_arm(order("1", 9, "ads", "x"), trial, rules) == b
    assert resolve_arm(order("1", 9, "ADS", "y"), trial, rules) == a
    assert resolve_arm(order("1", 9, "other", "x"), trial, rules) is None
    by_columns = OrderRow(
        "1", datetime(2026, 9, 1), 1.0, "paid", channel="weibo", creative="IMAGE B"
    )
    assert resolve_arm(by_columns, trial, rules) == b


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Paid", "paid"),
        ("已完成", "paid"),
        ("Canceled", "cancelled"),
        ("交易关闭", "cancelled"),
        ("退款成功", "refunded"),
        ("partially_refunded", "refunded"),
    ],
)
def test_status_words(word, status):
    assert parse_status(word).value == status


def test_models_read_own_orders_once_there_are_any(store, trial):
    wechat = ("WeChat", "Video A")
    store.commit_results(
        trial.id,
        [ResultRow(*wechat, date(2026, 9, 1), 1000, 50, 9, 40.0, 900.0)],
        kind="daily",
    )
    assert funnel_data(store, trial).conversions.tolist() == [9]
    store.commit_orders(
        trial.id,
        [order("1", 9, "wechat", "video-a", amount=70.0), order("2", 9, "weibo", "image-b", day=2)],
    )
    data = funnel_data(store, trial)
    assert data.conversions.tolist() == [1, 1] and data.revenue.tolist() == [70.0, 100.0]
    assert data.clicks.tolist() == [50, 0]  # clicks stay the channel's
    assert reconcile(store, trial).source == ResultSource.ORDERS
    channel_only = store.update_trial(
        trial.id,
        trial.spec.with_changes(results_source=ResultsChoice.CHANNEL),
        [a.id for a in trial.arms],
    )
    assert funnel_data(store, channel_only).conversions.tolist() == [9]
