"""Common marketing channels, as data: what a workspace might try next.

Each channel has the words that name it in a trial's channel label (matched case-blind, as
whole words for Latin letters and anywhere for Chinese), so "Google Search" counts as
*Search* and "微信朋友圈" as *WeChat*. The portfolio lists the channels no trial of the
workspace has yet as "new channels to try".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["COMMON_CHANNELS", "CommonChannel", "common_channel_of", "untried"]


@dataclass(frozen=True)
class CommonChannel:
    name: str
    what: str  # one line for a marketer
    words: tuple[str, ...]  # lower-case words or phrases that name it in a channel label


COMMON_CHANNELS: tuple[CommonChannel, ...] = (
    CommonChannel(
        "Search",
        "paid search ads (Google, Bing, Baidu)",
        ("search", "google ads", "adwords", "bing", "baidu", "sem", "百度", "搜索"),
    ),
    CommonChannel(
        "Social",
        "paid social feeds (Facebook, Instagram)",
        ("social", "facebook", "meta", "instagram", "fb"),
    ),
    CommonChannel("Email", "emails to your own list", ("email", "e-mail", "newsletter", "edm")),
    CommonChannel("WeChat", "WeChat Moments and official accounts", ("wechat", "weixin", "微信")),
    CommonChannel("Weibo", "Weibo feed ads", ("weibo", "微博")),
    CommonChannel("Douyin", "Douyin short videos", ("douyin", "抖音")),
    CommonChannel("Xiaohongshu", "Xiaohongshu (RED) notes", ("xiaohongshu", "rednote", "小红书")),
    CommonChannel("TikTok", "TikTok short videos", ("tiktok",)),
    CommonChannel("LinkedIn", "LinkedIn sponsored content", ("linkedin",)),
    CommonChannel("YouTube", "YouTube video ads", ("youtube",)),
    CommonChannel("Bilibili", "Bilibili video ads", ("bilibili", "b站", "哔哩哔哩")),
    CommonChannel("Display", "display and banner networks", ("display", "banner", "gdn")),
    CommonChannel("Affiliates", "affiliate and partner links", ("affiliate", "affiliates", "cps")),
    CommonChannel("SMS", "text messages to your own list", ("sms", "短信")),
    CommonChannel("Influencers", "paid posts by creators (KOL)", ("influencer", "kol", "达人")),
)


def _matches(word: str, label: str) -> bool:
    if word.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", label) is not None
    return word in label


def common_channel_of(label: str) -> CommonChannel | None:
    """The common channel a trial's channel label names (the first that matches), if any."""
    text = label.casefold()
    return next((c for c in COMMON_CHANNELS if any(_matches(w, text) for w in c.words)), None)


def untried(labels: Iterable[str]) -> tuple[CommonChannel, ...]:
    """The common channels none of ``labels`` names, in the list's order."""
    named = {c.name for c in map(common_channel_of, labels) if c is not None}
    return tuple(c for c in COMMON_CHANNELS if c.name not in named)
