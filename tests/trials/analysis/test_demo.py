from datetime import date

from trials.analysis.demo import demo_trials, load_demo
from trials.domain import PrimaryMetric, TrialStatus

TODAY = date(2026, 11, 22)


def test_demo_workspace_is_realistic(store):
    report = load_demo(store, today=TODAY)
    assert len(report.created) >= 3
    summaries = {s.trial.name: s for s in store.list_trials()}
    assert all(s.trial.spec.is_demo for s in summaries.values())
    with_data = [s for s in summaries.values() if s.days_with_data]
    assert len(with_data) >= 3
    assert all(14 <= s.days_with_data <= 28 for s in with_data)
    assert all(s.last_data_date < TODAY for s in with_data)


def test_social_pair_trades_reach_for_conversion(store):
    load_demo(store, today=TODAY)
    trial = store.get_trial("WeChat vs Weibo launch")
    assert trial.spec.primary_metric is PrimaryMetric.ROAS
    wechat, weibo = (store.arm_totals(trial.id)[a.id] for a in trial.arms)
    assert 900 <= wechat.spend <= 1100 and 900 <= weibo.spend <= 1100  # 1,000 each
    assert wechat.impressions < weibo.impressions / 2  # low exposure...
    assert wechat.conversions / wechat.clicks > 2 * weibo.conversions / weibo.clicks  # ...converts


def test_search_headline_test_has_three_creatives_and_email_two(store):
    load_demo(store, today=TODAY)
    assert len(store.get_trial("Search ads headline test").arms) == 3
    email = store.get_trial("Email subject lines, November")
    assert {a.spec.channel for a in email.arms} == {"Email"}


def test_draft_demo_trial_has_no_data(store):
    load_demo(store, today=TODAY)
    draft = [s for s in store.list_trials() if s.trial.spec.status is TrialStatus.DRAFT]
    assert draft and all(s.days_with_data == 0 for s in draft)


def test_demo_is_reproducible_and_never_duplicated(store, engine):
    first = load_demo(store, today=TODAY)
    again = load_demo(store, today=TODAY)
    assert again.created == () and again.skipped == first.created
    totals = {s.trial.name: store.arm_totals(s.trial.id) for s in store.list_trials()}
    store.delete_demo_trials()
    load_demo(store, today=TODAY)
    reloaded = {s.trial.name: store.arm_totals(s.trial.id) for s in store.list_trials()}
    assert [list(v.values()) for v in totals.values()] == [
        list(reloaded[name].values()) for name in totals
    ]


def test_demo_specs_are_valid_on_any_day():
    for today in (date(2024, 2, 29), date(2026, 1, 1), date(2030, 12, 31)):
        assert len(demo_trials(today)) >= 3


def test_social_pair_has_own_orders_that_channels_over_claim(store):
    from trials.analysis.sources import reconcile

    load_demo(store, today=TODAY)
    trial = store.get_trial("WeChat vs Weibo launch")
    result = reconcile(store, trial)
    assert result.has_orders and result.source.value == "orders"
    for arm in result.arms:
        assert 0 < arm.order_conversions < arm.channel_conversions
    assert result.attribution.shared and result.attribution.excluded
    assert [b.kind for b in store.import_batches(trial.id)] == ["demo", "orders"]
