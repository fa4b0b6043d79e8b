"""Exchange rates as the user gives them, and conversion exact to the micro-unit."""

from decimal import Decimal

import pytest

from trials.domain import UserError
from trials.domain.channels import COMMON_CHANNELS, common_channel_of, untried
from trials.domain.exchange import Rates, convert_micros, micros, parse_rate


def test_conversion_is_exact_to_the_micro_unit_half_to_even():
    assert convert_micros(12_345_678, Decimal("7.1")) == 87_654_314  # 87.6543138
    assert convert_micros(1, Decimal("0.5")) == 0  # 0.5 micro: half to even
    assert convert_micros(3, Decimal("0.5")) == 2  # 1.5 micro: half to even
    assert convert_micros(10**15, Decimal("7.123456789")) == 7_123_456_789_000_000
    assert micros(12.345678) == 12_345_678 and micros(0.1 + 0.2) == 300_000


def test_rates_are_read_or_refused_with_the_reason():
    assert parse_rate("usd=7.1") == ("USD", Decimal("7.1"))
    assert parse_rate("EUR = 7,712.5") == ("EUR", Decimal("7712.5"))
    for text, why in (
        ("USD", "CODE=VALUE"),
        ("USD=seven", "not a number"),
        ("USD=0", "positive"),
        ("USD=-1", "positive"),
        ("USD=nan", "positive"),
        ("US=1", "three letters"),
    ):
        with pytest.raises(UserError, match=why):
            parse_rate(text)
    with pytest.raises(UserError, match="--currency"):
        Rates.parse(None, ["USD=7.1"])
    with pytest.raises(UserError, match="two rates for USD"):
        Rates.parse("CNY", ["USD=7.1", "USD=7.2"])
    with pytest.raises(UserError, match="must be 1"):
        Rates.parse("CNY", ["CNY=2"])
    rates = Rates.parse("cny", ["USD=7.1"])
    assert (
        rates.rate("CNY") == 1 and rates.rate("USD") == Decimal("7.1") and rates.rate("EUR") is None
    )
    assert Rates().rate("CNY") is None


def test_channel_labels_count_as_common_channels():
    assert common_channel_of("Google Search").name == "Search"
    assert common_channel_of("微信朋友圈").name == "WeChat"
    assert common_channel_of("Email").name == "Email"
    assert common_channel_of("Redditch fair") is None
    assert common_channel_of("Display network").name == "Display"
    names = [c.name for c in untried(["WeChat", "Google Search", "抖音"])]
    assert names == [
        c.name for c in COMMON_CHANNELS if c.name not in {"WeChat", "Search", "Douyin"}
    ]
    assert {
        "Search",
        "Social",
        "Email",
        "WeChat",
        "Weibo",
        "Douyin",
        "Xiaohongshu",
        "TikTok",
        "LinkedIn",
        "Display",
        "Affiliates",
    } <= {c.name for c in COMMON_CHANNELS}
