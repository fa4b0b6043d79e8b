from dataclasses import replace
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
    # Three or four weeks a trial; six weeks for the one that scaled its winner, five for
    # the one in its second round.
    assert all(14 <= s.days_with_data <= 42 for s in with_data)
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


# -- the marketer's loop ------------------------------------------------------------------

ROUND_TWO = "Weibo creative fix: WeChat vs Weibo"
SCALED = "Google Search: long-tail keywords"


def test_two_round_trial_replaced_the_weak_creative_and_the_fix_shows(store):
    from trials.analysis.rounds import compare_rounds

    load_demo(store, today=TODAY)
    trial = store.get_trial(ROUND_TWO)
    assert trial.current_round == 2 and [r.number for r in trial.rounds] == [1, 2]
    assert [a.name for a in trial.arms] == ["WeChat · Moments video", "Weibo · Feed video"]
    assert "Weibo · Feed image" in [a.name for a in trial.all_arms]
    comparison = compare_rounds(store, trial, method="exact")
    changes = {c.after_name: c for c in comparison.arms}
    fixed = changes["Weibo · Feed video"]
    assert (fixed.kind, fixed.before_name) == ("replaced", "Weibo · Feed image")
    assert fixed.stage("ctr").p_improved > 0.9  # the stage the new creative fixed
    assert fixed.stage("ctr").change.low > 0.5  # by more than half, surely
    kept = changes["WeChat · Moments video"]
    assert kept.kind == "same"
    ctr = kept.stage("ctr").change
    assert ctr.low < 0 < ctr.high  # the kept arm: no change it could be sure of
    assert 0.1 < kept.stage("ctr").p_improved < 0.9


def test_scaled_arm_has_a_plan_with_three_weekly_steps_and_a_proposal(store):
    from trials.analysis.result import load, response_curves
    from trials.analysis.scale_plan import track

    load_demo(store, today=TODAY)
    trial = store.get_trial(SCALED)
    assert trial.spec.status is TrialStatus.DECIDED
    winner = next(a for a in trial.arms if a.spec.creative == "Long-tail keywords")
    [plan] = store.scale_plans(trial.id, winner.id)
    assert plan.active and plan.step == 0.5 and plan.step_days == 7
    data = load(store, trial)
    spend = [(r.day, r.spend) for r in data.daily if r.arm_id == winner.id]
    # One fit of the arm's response curve only (a small model, seconds).
    curve = response_curves(data, seed=0, arm_ids={winner.id})[winner.id]
    tracking = track(plan, spend, curve, currency="USD")
    assert [s.days_with_spend for s in tracking.steps] == [7, 7, 7]
    assert all(not s.off_plan for s in tracking.steps)
    assert tracking.curve_reason is None, tracking.curve_reason
    assert tracking.proposal.kind in ("step_up", "stop"), tracking.proposal.text
    # Returns flatten: the marginal ROAS at the third step is well under the average ROAS.
    totals = store.arm_totals(trial.id)[winner.id]
    assert tracking.marginal.median < 0.6 * totals.revenue / totals.spend


def test_a_dozen_finished_trials_in_two_currencies_some_decided(store):
    from trials.analysis.priors import finished

    load_demo(store, today=TODAY)
    done = [s for s in store.list_trials() if finished(s, TODAY)]
    assert len(done) >= 12
    currencies = [s.trial.spec.currency for s in done]
    assert currencies.count("CNY") >= 4 and currencies.count("USD") >= 4
    channels = {a.spec.channel for s in done for a in s.trial.arms}
    assert {"Google Search", "Baidu Search", "WeChat", "Weibo", "Email", "Xiaohongshu"} <= channels
    decided = {s.trial.name: store.decisions(s.trial.id) for s in done}
    with_decisions = {n: d for n, d in decided.items() if d}
    assert len(with_decisions) >= 4
    for entries in with_decisions.values():
        [entry] = entries
        assert entry.note and (entry.summary["scale"] or entry.summary["stop"])
        # The evidence is the exact path's, and says so: never a full-model verdict.
        assert entry.snapshot["method"] == "exact"
        assert entry.snapshot["decision"]["verdict"] == "preview"
        assert entry.snapshot["data_digest"]


def test_learned_priors_per_channel_and_across_channels_are_plausible(store):
    from trials.analysis.priors import workspace_priors

    load_demo(store, today=TODAY)
    learned = workspace_priors(store, today=TODAY).learned
    assert len(learned.trials) >= 12
    for channel in ("WeChat", "Weibo", "Google Search", "Email", "Xiaohongshu", None):
        for stage in ("ctr", "cvr"):
            row = learned.get(channel, stage)
            assert row is not None and row.beta is not None, (channel, stage)
            assert 0.002 < row.mean < 0.08, (channel, stage, row.mean)
    # Money per currency, never mixed: order values in CNY and USD, each in its range.
    cny = learned.get("WeChat", "order_value", "CNY")
    usd = learned.get("Google Search", "order_value", "USD")
    assert 150 < cny.mean < 400 and 30 < usd.mean < 100
    assert learned.get("WeChat", "order_value", "USD") is None


def _workspace(store):
    out = {}
    for s in store.list_trials():
        t = store.get_trial(s.trial.id)
        out[t.name] = (
            replace(t.spec, decision_rule=None),
            [a.name for a in t.all_arms],
            [(r.number, r.start, r.end, r.reason) for r in t.rounds],
            [
                (r.day, r.impressions, r.clicks, r.conversions, r.spend, r.revenue)
                for r in store.daily_results(t.id)
            ],
            [(e.summary, e.note, e.snapshot) for e in store.decisions(t.id)],
            [(p.settings, p.start, p.status) for p in store.scale_plans(t.id)],
        )
    return out


def test_same_seed_and_day_give_the_same_workspace(store, tmp_path):
    from trials.storage.engine import connect
    from trials.storage.store import TrialStore

    other = TrialStore(connect(f"sqlite:///{tmp_path / 'other.sqlite3'}"), actor="tester")
    load_demo(store, today=TODAY)
    load_demo(other, today=TODAY)
    first, second = _workspace(store), _workspace(other)
    assert list(first) == list(second) and first == second
    moved = TrialStore(connect(f"sqlite:///{tmp_path / 'moved.sqlite3'}"), actor="tester")
    load_demo(moved, today=TODAY, seed=1)
    assert _workspace(moved)[ROUND_TWO][3] != first[ROUND_TWO][3]  # another seed, other data
