"""``portfolio`` and ``history`` from the command line: money per currency never mixed,
the rates stated, a currency without a rate shown apart, bad flags refused plainly."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from tests.trials.cli.test_cli import TRIAL_JSON, run, write

DAYS = [date(2026, 12, 1) + timedelta(days=d) for d in range(7)]


def _csv(channel_creatives, spend="12.345678"):
    lines = ["date,channel,creative,impressions,clicks,conversions,spend,revenue"]
    for day in DAYS:
        for channel, creative in channel_creatives:
            lines.append(f"{day},{channel},{creative},2000,60,6,{spend},40")
    return "\n".join(lines) + "\n"


@pytest.fixture
def three_currencies(capsys, tmp_path):
    for name, currency, arms in (
        ("China", "CNY", [("WeChat", "A"), ("Weibo", "B")]),
        ("America", "USD", [("Google Search", "A"), ("WeChat", "B")]),
        ("Europe", "EUR", [("Email", "A"), ("Email", "B")]),
    ):
        spec = TRIAL_JSON | {
            "name": name,
            "currency": currency,
            "arms": [
                {"channel": c, "creative": k, "control": i == 0} for i, (c, k) in enumerate(arms)
            ],
        }
        code, _, err = run(capsys, "create", "--from-file", write(tmp_path, f"{name}.json", spec))
        assert code == 0, err
        code, _, err = run(capsys, "import", name, write(tmp_path, f"{name}.csv", _csv(arms)))
        assert code == 0, err


def _json(capsys, *argv):
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


def test_one_table_per_currency_without_rates(capsys, three_currencies):
    out = _json(capsys, "portfolio", "--json")
    tables = {t["currency"]: t for t in out["tables"]}
    assert set(tables) == {"CNY", "USD", "EUR"}
    assert tables["USD"]["trials"] == ["America"] and tables["USD"]["converted_from"] == []
    assert tables["CNY"]["total"]["spend"] == 2 * 7 * 12.345678
    assert out["rates"] == [] and out["currency"] is None and out["method"] == "exact"
    code, text, _ = run(capsys, "portfolio")
    assert code == 0 and "\nCNY\n" in text and "\nUSD\n" in text and "\nEUR\n" in text
    assert "not the full model" in text


def test_rates_convert_what_they_name_and_state_it(capsys, three_currencies):
    out = _json(capsys, "portfolio", "--currency", "CNY", "--rate", "USD=7.1", "--json")
    assert [t["currency"] for t in out["tables"]] == ["CNY", "EUR"]
    cny, eur = out["tables"]
    assert cny["converted_from"] == [{"currency": "USD", "rate": "7.1"}]
    assert out["rates"] == [{"currency": "USD", "rate": "7.1", "into": "CNY"}]
    # Each row's share of each trial is converted once, half to even to a micro-unit:
    # America's Google Search spent 86.419746 USD (7 days of 12.345678) = 613.5801966 CNY
    # at 7.1, so 613.580197; its WeChat arm the same. The total is the sum of the rows.
    [search] = [r for r in cny["rows"] if r["label"] == "Google Search"]
    assert round(search["spend"] * 1e6) == 613_580_197
    assert round(cny["total"]["spend"] * 1e6) == 172_839_492 + 2 * 613_580_197
    assert round(sum(r["spend"] for r in cny["rows"]) * 1e6) == 172_839_492 + 2 * 613_580_197
    assert "no rate for EUR" in eur["note"] and eur["total"]["spend"] == 172.839492
    code, text, _ = run(capsys, "portfolio", "--currency", "cny", "--rate", "USD=7.1")
    assert code == 0 and text.startswith("Rates used: 1 USD = 7.1 CNY")
    assert "EUR — not converted: no rate for EUR" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--rate", "USD=7.1"], "need a target currency"),
        (["--currency", "CNY", "--rate", "USD"], "CODE=VALUE"),
        (["--currency", "CNY", "--rate", "USD=-2"], "positive"),
        (["--currency", "yuan"], "not a currency code"),
    ],
)
def test_bad_rates_are_refused_plainly(capsys, argv, message):
    code, out, err = run(capsys, "portfolio", *argv)
    assert code == 1 and message in err and "Traceback" not in err and not out


def test_a_bad_date_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        run(capsys, "portfolio", "--since", "yesterday")
    assert e.value.code == 2


def test_by_week_and_since(capsys, three_currencies):
    out = _json(capsys, "portfolio", "--by", "week", "--since", "2026-12-05", "--json")
    assert out["by"] == "week" and out["since"] == "2026-12-05"
    usd = next(t for t in out["tables"] if t["currency"] == "USD")
    # 5-6 December in the ISO week from Monday 30 November, 7 December in the next.
    assert [r["key"] for r in usd["rows"]] == ["2026-11-30", "2026-12-07"]
    assert usd["total"]["spend"] == pytest.approx(2 * 3 * 12.345678)
    assert usd["rows"][0]["roas"]["hdi_low"] < usd["rows"][0]["roas"]["mean"]


def test_history_day_by_day(capsys, three_currencies):
    out = _json(capsys, "history", "China", "--json")
    assert [d["day"] for d in out["days"]] == [d.isoformat() for d in DAYS]
    assert out["method"] == "exact" and out["metric"] == "roas"
    for day in out["days"]:
        assert sum(a["p_best"] for a in day["arms"]) == pytest.approx(1.0, abs=1e-3)
    assert out["days"][-1]["arms"][0]["spend"] == pytest.approx(7 * 12.35, abs=0.05)
    code, text, _ = run(capsys, "history", "China")
    assert code == 0 and "P(best) on ROAS / ROAS" in text and "not the full model" in text


def test_history_of_a_trial_without_data(capsys, tmp_path):
    run(capsys, "create", "--from-file", write(tmp_path, "t.json", TRIAL_JSON))
    out = _json(capsys, "history", TRIAL_JSON["name"], "--json")
    assert out["days"] == [] and out["leader"] is None
    code, text, _ = run(capsys, "history", TRIAL_JSON["name"])
    assert code == 0 and "has no data yet" in text
