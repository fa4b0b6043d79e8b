"""The Portfolio page on the demo: one table per currency, never mixed; converted only at
the rates entered (and said so); a currency without a rate kept apart; the decision log
per channel; where the next money goes; new channels to try."""

from datetime import UTC, datetime

from tests.app_pages.conftest import open_app, texts, widget

PAGE = "app_pages/portfolio.py"


def _tables(at):
    return [d.value for d in at.dataframe]


def test_one_table_per_currency_by_default(demo):
    at = open_app(PAGE)
    page = texts(at)
    assert "Portfolio" in page
    for code in ("CNY", "USD", "EUR"):
        assert code in [s.value for s in at.subheader]
    money_tables = [t for t in _tables(at) if "Spend" in t.columns]
    assert len(money_tables) == 3
    for table in money_tables:
        codes = {str(v).split()[-1] for v in table["Spend"]}
        assert len(codes) == 1  # one currency per table, never mixed
    [usd] = [t for t in money_tables if str(t["Spend"].iloc[0]).endswith("USD")]
    assert {"Google Search", "Instagram", "YouTube", "Email"} <= set(usd["Channel"])
    assert list(usd["Channel"])[-1] == "All"
    assert "the exact path" in page and "not the full model" in page
    assert "No data yet: Xiaohongshu notes \\(planned\\)" in page
    # New channels to try: the common list minus the channels the workspace has.
    [new] = [t for t in _tables(at) if "What the workspace expects" in t.columns]
    assert "Douyin" in set(new["Channel"]) and "WeChat" not in set(new["Channel"])
    # From the learned priors across channels, or nothing when too few trials finished.
    assert all(
        e == "no expectation yet" or "finished trials" in e
        for e in new["What the workspace expects"]
    )


def test_rates_convert_the_currencies_given_and_keep_the_others_apart(demo):
    at = open_app(PAGE)
    at.selectbox(key="portfolio_currency").set_value("CNY").run()
    widget(at.text_input, "1 USD in CNY").set_value("7.1").run()
    assert not at.exception
    page = texts(at)
    assert "Rates used: 1 USD = 7.1 CNY" in page
    assert "not converted: no rate for EUR" in page
    money_tables = [t for t in _tables(at) if "Spend" in t.columns]
    assert len(money_tables) == 2
    cny, eur = money_tables
    assert all(str(v).endswith("CNY") for v in cny["Spend"])
    assert "Google Search" in set(cny["Channel"])  # the USD trial, converted
    assert all(str(v).endswith("EUR") for v in eur["Spend"])
    usd_spend = sum(  # every Google Search arm: all in USD
        total.spend
        for summary in demo.list_trials()
        for arm_id, total in demo.arm_totals(summary.trial.id).items()
        if {a.id: a.spec.channel for a in summary.trial.all_arms}[arm_id] == "Google Search"
    )
    [search] = cny[cny["Channel"] == "Google Search"]["Spend"]
    assert search == f"{usd_spend * 7.1:,.2f} CNY"


def test_a_bad_rate_is_refused_with_the_reason(demo):
    at = open_app(PAGE)
    at.selectbox(key="portfolio_currency").set_value("CNY").run()
    widget(at.text_input, "1 USD in CNY").set_value("seven").run()
    assert not at.exception
    assert "is not a number" in texts(at)
    assert not [t for t in _tables(at) if "Spend" in t.columns]


def test_the_decision_log_and_the_next_money_read_recorded_decisions(demo):
    from trials.domain.verdicts import DecisionRecord

    trial = demo.get_trial("Email subject lines, November")
    urgent, question = "Email · Urgency: 48 hours only", "Email · Question: Ready for winter?"
    snapshot = {
        "method": "mcmc",
        "data_digest": "older",
        "decision": {"verdict": "scale"},
        "arms": [
            {
                "channel": "Email",
                "creative": "Urgency: 48 hours only",
                "recommendation": "scale",
                "reason": "converts better",
            },
            {
                "channel": "Email",
                "creative": "Question: Ready for winter?",
                "recommendation": "stop",
                "reason": "clearly behind",
            },
        ],
    }
    demo.record_decision(
        trial.id,
        DecisionRecord(scale=(urgent,), stop=(question,), note="**urgency** wins"),
        snapshot,
    )
    at = open_app(PAGE)
    assert not at.exception
    [log] = [t for t in _tables(at) if "Why from" in t.columns]
    log = log[log["Trial"] == trial.name]  # the demo's own decisions are there too
    assert set(log["Decision"]) == {"Scale", "Stop"}
    assert set(log["Why"]) == {"**urgency** wins"}  # shown as typed, in a table
    assert set(log["Who"]) == {"tester"} and set(log["Date"]) == {
        datetime.now(UTC).date().isoformat()
    }
    [channels] = [t for t in _tables(at) if "Counts as" in t.columns]
    assert channels.set_index("Channel").loc["Email", "Status"] == "Scaled"
    [money] = [t for t in _tables(at) if "Marginal ROAS now (94%)" in t.columns]
    assert list(money["Arm"]) == [urgent]
    assert money["Verdict from"].iloc[0].startswith("decision #")
