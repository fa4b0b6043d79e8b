"""Which source of conversions and revenue a trial uses: orders outside the trial's dates
never switch it, one summary says which, and an orders import that would change the
numbers a lot needs its own confirmation."""

import json
from datetime import date, datetime

import pytest

from tests.conftest import make_spec
from tests.trials.cli.test_cli import run, write
from tests.trials.ingest.test_imports import FILES, create
from trials.analysis.importing import commit_orders, preview_orders
from trials.analysis.result import funnel_data, load
from trials.analysis.sources import reconcile, source_for, source_summary
from trials.domain import OrderRow, ResultRow, ResultsChoice, ResultSource
from trials.reports.contract import orders_preview_dict, reconciliation_dict, source_summary_dict

HEADER = "order id,created at,amount,status,utm_source,utm_content\n"


def order(order_id, day, source="wechat", content="video-a", amount=100.0, status="paid"):
    return OrderRow(
        order_id=order_id,
        ordered_at=datetime(day.year, day.month, day.day, 10),
        amount=amount,
        status=status,
        utm_source=source,
        utm_content=content,
    )


@pytest.fixture
def trial(store):
    return store.create_trial(make_spec())


def channel_results(store, trial, wechat=12, weibo=4):
    store.commit_results(
        trial.id,
        [
            ResultRow("WeChat", "Video A", date(2026, 9, 1), 1000, 60, wechat, 40.0, 1200.0),
            ResultRow("Weibo", "Image B", date(2026, 9, 1), 900, 30, weibo, 30.0, 34.5),
        ],
        kind="daily",
    )


def with_choice(store, trial, choice):
    return store.update_trial(
        trial.id, trial.spec.with_changes(results_source=choice), [a.id for a in trial.arms]
    )


# -- the switching rule -----------------------------------------------------------------------


def test_orders_wholly_outside_the_dates_do_not_switch_auto(store, trial):
    channel_results(store, trial)
    store.commit_orders(
        trial.id,
        [order("1", date(2026, 10, 2)), order("2", date(2026, 8, 31), "weibo", "image-b")],
    )
    assert source_for(store, trial) == ResultSource.CHANNEL
    assert funnel_data(store, trial).conversions.tolist() == [12, 4]
    assert funnel_data(store, trial).revenue.tolist() == [1200.0, 34.5]
    inputs = load(store, trial)
    assert inputs.source == "channel"
    assert [t.conversions for t in inputs.totals.values()] == [12, 4]
    assert [t.revenue for t in inputs.totals.values()] == [1200.0, 34.5]
    assert reconcile(store, trial).source == ResultSource.CHANNEL


def test_cancelled_or_unmatched_orders_in_the_dates_do_not_switch_auto(store, trial):
    channel_results(store, trial)
    store.commit_orders(
        trial.id,
        [
            order("1", date(2026, 9, 2), status="cancelled"),
            order("2", date(2026, 9, 3), "newsletter", ""),
        ],
    )
    assert source_for(store, trial) == ResultSource.CHANNEL
    assert load(store, trial).totals[trial.arms[0].id].conversions == 12


def test_orders_inside_the_dates_switch_auto_and_outside_ones_are_not_counted(store, trial):
    channel_results(store, trial)
    store.commit_orders(
        trial.id,
        [
            order("1", date(2026, 9, 1), amount=70.0),
            order("2", date(2026, 9, 28), "weibo", "image-b"),
            order("3", date(2026, 10, 1)),
        ],
    )
    assert source_for(store, trial) == ResultSource.ORDERS
    data = funnel_data(store, trial)
    assert data.conversions.tolist() == [1, 0, 1] and data.revenue.tolist() == [70.0, 0.0, 100.0]
    inputs = load(store, trial)
    assert inputs.source == "orders"
    a, b = (arm.id for arm in trial.arms)
    assert (inputs.totals[a].conversions, inputs.totals[a].revenue) == (1, 70.0)
    assert inputs.totals[a].clicks == 60  # clicks stay the channel's
    assert (inputs.totals[b].conversions, inputs.totals[b].revenue) == (1, 100.0)


def test_explicit_choices_behave_as_before(store, trial):
    channel_results(store, trial)
    orders_only = with_choice(store, trial, ResultsChoice.ORDERS)
    assert source_for(store, orders_only) == ResultSource.ORDERS
    assert funnel_data(store, orders_only).conversions.tolist() == [0, 0]
    store.commit_orders(trial.id, [order("1", date(2026, 9, 2))])
    channel_only = with_choice(store, trial, ResultsChoice.CHANNEL)
    assert source_for(store, channel_only) == ResultSource.CHANNEL
    assert funnel_data(store, channel_only).conversions.tolist() == [12, 4]


# -- the summary --------------------------------------------------------------------------------


def test_summary_without_orders(store, trial):
    channel_results(store, trial, wechat=1200, weibo=34)
    summary = source_summary(store, trial)
    assert summary.source == ResultSource.CHANNEL and summary.choice == ResultsChoice.AUTO
    assert summary.orders is None and summary.orders_outside_dates == 0
    assert summary.sentence == (
        "Conversions and revenue: the channels' reports (own orders: none imported)."
    )
    assert source_summary_dict(summary) == {
        "source": "channel",
        "choice": "auto",
        "channel_conversions": 1234,
        "channel_revenue": 1234.5,
        "orders_conversions": None,
        "orders_revenue": None,
        "orders_outside_dates": 0,
        "sentence": summary.sentence,
    }


def test_summary_with_orders_outside_the_dates_only(store, trial):
    channel_results(store, trial)
    store.commit_orders(trial.id, [order(str(i), date(2026, 10, 1 + i)) for i in range(14)])
    summary = source_summary(store, trial)
    assert summary.source == ResultSource.CHANNEL and summary.orders_outside_dates == 14
    assert summary.sentence == (
        "Conversions and revenue: the channels' reports; 14 own orders fall outside the "
        "trial's dates (2026-09-01 to 2026-09-28) and are not used to switch."
    )
    data = source_summary_dict(summary)
    assert (data["orders_conversions"], data["orders_revenue"]) == (0, 0.0)
    assert (data["channel_conversions"], data["channel_revenue"]) == (16, 1234.5)


def test_summary_when_own_orders_are_used(store, trial):
    channel_results(store, trial, wechat=7, weibo=4)
    store.commit_orders(
        trial.id,
        [
            order("1", date(2026, 9, 1), amount=1000.0),
            order("2", date(2026, 9, 2), "weibo", "image-b", amount=234.0),
            order("3", date(2026, 10, 2)),
        ],
    )
    summary = source_summary(store, trial)
    assert summary.source == ResultSource.ORDERS
    assert summary.sentence == (
        "Conversions and revenue: the shop's own orders, 2 conversions and 1,234.00 CNY "
        "(the channels reported 11 conversions and 1,234.50 CNY); 1 own order falls outside "
        "the trial's dates (2026-09-01 to 2026-09-28) and is not counted."
    )
    assert source_summary_dict(summary) == {
        "source": "orders",
        "choice": "auto",
        "channel_conversions": 11,
        "channel_revenue": 1234.5,
        "orders_conversions": 2,
        "orders_revenue": 1234.0,
        "orders_outside_dates": 1,
        "sentence": summary.sentence,
    }
    assert reconciliation_dict(reconcile(store, trial), trial)[
        "source_summary"
    ] == source_summary_dict(summary)


def test_summary_of_explicit_choices(store, trial):
    channel_results(store, trial)
    orders_only = with_choice(store, trial, ResultsChoice.ORDERS)
    summary = source_summary(store, orders_only)
    assert summary.source == ResultSource.ORDERS and summary.choice == ResultsChoice.ORDERS
    assert "as the trial's setting asks, but none are imported yet" in summary.sentence
    assert [t.conversions for t in summary.used(orders_only).values()] == [0, 0]
    store.commit_orders(trial.id, [order("1", date(2026, 9, 2))])
    channel_only = with_choice(store, trial, ResultsChoice.CHANNEL)
    summary = source_summary(store, channel_only)
    assert summary.source == ResultSource.CHANNEL and summary.choice == ResultsChoice.CHANNEL
    assert summary.sentence == (
        "Conversions and revenue: the channels' reports, as the trial's setting asks (own "
        "orders would give 1 conversion and 100.00 CNY)."
    )


# -- the effect of an orders import ---------------------------------------------------------


def orders_file(*lines):
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def test_a_switch_that_cuts_conversions_needs_confirmation(store, trial):
    channel_results(store, trial, wechat=12, weibo=4)
    data = orders_file(
        "1,2026-09-01,50,paid,wechat,video-a",
        "2,2026-09-02,50,paid,wechat,video-a",
        "3,2026-09-02,50,paid,wechat,video-a",
        "4,2026-09-02,80,paid,weibo,image-b",
        "5,2026-09-03,80,paid,weibo,image-b",
        "6,2026-09-04,80,paid,weibo,image-b",
    )
    preview = preview_orders(store, trial, data, "o.csv")
    effect = preview.effect
    assert effect.source_before == ResultSource.CHANNEL
    assert effect.source_after == ResultSource.ORDERS
    assert [(a.conversions_before, a.conversions_after) for a in effect.arms] == [(12, 3), (4, 3)]
    assert [a.revenue_after for a in effect.arms] == [150.0, 240.0]
    assert [a.flagged for a in effect.arms] == [True, False]
    assert preview.needs_confirmation
    assert "WeChat · Video A 12 → 3" in preview.effect_warning
    assert "Weibo" not in preview.effect_warning
    assert "from the channels' reports to the shop's own orders" in preview.effect_warning
    shown = orders_preview_dict(preview)
    assert shown["needs_confirmation"] is True and shown["effect_warning"]
    assert shown["effect"]["arms"][0]["conversions_after"] == 3
    assert store.orders(trial.id) == []  # the preview writes nothing


def test_small_changes_and_orders_outside_the_dates_need_no_confirmation(store, trial):
    channel_results(store, trial, wechat=4, weibo=3)
    data = orders_file(
        "1,2026-09-01,50,paid,wechat,video-a",
        "2,2026-09-02,50,paid,wechat,video-a",
        "3,2026-09-02,50,paid,wechat,video-a",
        "4,2026-09-02,80,paid,weibo,image-b",
        "5,2026-09-03,80,paid,weibo,image-b",
    )
    preview = preview_orders(store, trial, data, "o.csv")
    assert [(a.conversions_before, a.conversions_after) for a in preview.effect.arms] == [
        (4, 3),
        (3, 2),
    ]
    assert not preview.needs_confirmation and preview.effect_warning == ""
    outside = preview_orders(store, trial, orders_file("9,2026-10-09,50,paid,wechat,video-a"), "x")
    assert outside.effect.source_after == ResultSource.CHANNEL
    assert not outside.effect.changes and not outside.needs_confirmation


def test_first_orders_of_a_trial_without_conversions_need_no_confirmation(store, trial):
    data = orders_file("1,2026-09-01,50,paid,wechat,video-a", "2,2026-09-02,60,paid,weibo,image-b")
    preview = preview_orders(store, trial, data, "o.csv")
    assert preview.effect.changes and not preview.needs_confirmation


def test_leaving_the_trial_without_conversions_needs_confirmation(store, trial):
    first = orders_file("1,2026-09-01,50,paid,wechat,video-a", "2,2026-09-02,60,paid,weibo,image-b")
    commit_orders(store, trial, preview_orders(store, trial, first, "o.csv"))
    assert source_for(store, trial) == ResultSource.ORDERS
    refunds = orders_file(
        "1,2026-09-01,50,refunded,wechat,video-a", "2,2026-09-02,60,refunded,weibo,image-b"
    )
    preview = preview_orders(store, trial, refunds, "refunds.csv")
    effect = preview.effect
    assert effect.leaves_no_conversions and preview.needs_confirmation
    assert effect.source_after == ResultSource.CHANNEL  # no orders left in the dates
    assert "left with no conversions at all" in preview.effect_warning


# -- the CLI ------------------------------------------------------------------------------------


def test_cli_refuses_a_big_change_without_accept_effect(capsys, tmp_path):
    name = create(capsys, tmp_path)
    assert run(capsys, "import", name, str(FILES / "google_ads_report.csv"))[0] == 0
    path = str(FILES / "own_orders.csv")
    before = run(capsys, "reconcile", name, "--json")[1]
    code, out, err = run(capsys, "orders", name, path, "--json")
    assert code == 1
    refused = json.loads(out)
    assert refused["needs_confirmation"] is True and refused["written"] is False
    assert "WeChat · Video A 7 → 1" in refused["effect_warning"]
    assert "--accept-effect" in err and "Nothing was written" in err
    assert run(capsys, "reconcile", name, "--json")[1] == before
    assert [b["kind"] for b in json.loads(run(capsys, "imports", name, "--json")[1])] == ["daily"]
    code, out, _ = run(capsys, "orders", name, path, "--dry-run")
    assert code == 0 and "WeChat · Video A: 7 → 1 conversions" in out
    assert "dry run: nothing was written" in out
    code, out, err = run(capsys, "orders", name, path, "--accept-effect")
    assert code == 0, err
    assert "8 new" in out
    data = json.loads(run(capsys, "reconcile", name, "--json")[1])
    assert data["source_in_use"] == "orders"
    assert data["source_summary"]["sentence"].startswith(
        "Conversions and revenue: the shop's own orders"
    )


def test_cli_orders_outside_the_dates_import_without_confirmation(capsys, tmp_path):
    name = create(capsys, tmp_path)
    run(capsys, "import", name, str(FILES / "google_ads_report.csv"))
    october = write(tmp_path, "oct.csv", HEADER + "1,2026-10-02,30,paid,wechat,video-a\n")
    code, out, err = run(capsys, "orders", name, october, "--json")
    assert code == 0, err
    assert json.loads(out)["needs_confirmation"] is False
    data = json.loads(run(capsys, "reconcile", name, "--json")[1])
    assert data["source_in_use"] == "channel"
    assert data["source_summary"]["orders_outside_dates"] == 1
    analysis = json.loads(run(capsys, "analyze", name, "--method", "exact", "--json")[1])
    assert analysis["results_source"] == "channel"
    assert [a["totals"]["conversions"] for a in analysis["arms"]] == [7, 3]
