"""Headers to fields: synonyms in English and Chinese, presets, overrides, totals."""

import pytest

from trials.domain import UserError
from trials.ingest.columns import (
    DAILY_FIELDS,
    PRESETS,
    find_header,
    is_total_row,
    map_columns,
    normalise_header,
)


def test_headers_are_compared_loosely():
    assert normalise_header("Amount spent (CNY)") == "amount spent"
    assert normalise_header("Impr.") == "impr"
    assert normalise_header("Conv. value") == "conv value"
    assert normalise_header("点击量（次）") == "点击量"


def test_chinese_headers_map_to_every_field():
    header = ["日期", "渠道", "内容版本", "曝光量", "点击量", "转化数", "花费", "收入", "人群"]
    mapped = map_columns(header, DAILY_FIELDS)
    assert mapped.as_dict() == dict(zip(DAILY_FIELDS, header, strict=True))


def test_overrides_by_name_or_number_win_and_free_the_column():
    header = ["Day", "Campaign", "Ad", "Impressions", "Clicks", "Purchases", "Cost", "Sales"]
    mapped = map_columns(header, DAILY_FIELDS, overrides={"creative": "2", "channel": "3"})
    assert mapped.header("creative") == "Campaign"
    assert mapped.header("channel") == "Ad"
    assert mapped.how["creative"] == "--map"


def test_bad_overrides_are_named():
    with pytest.raises(UserError, match="unknown field"):
        map_columns(["a"], DAILY_FIELDS, overrides={"cost": "a"})
    with pytest.raises(UserError, match="no such column"):
        map_columns(["a"], DAILY_FIELDS, overrides={"spend": "Amount"})


def test_the_header_is_found_below_title_lines():
    rows = [
        ["Campaign performance report"],
        ["September 1, 2026 - September 28, 2026"],
        ["Campaign", "Ad group", "Day", "Impr.", "Clicks", "Cost"],
        ["WeChat", "A", "2026-09-01", "1", "1", "1"],
    ]
    assert find_header(rows, DAILY_FIELDS, PRESETS["google-ads"]) == 2


def test_total_rows_are_recognised_only_without_a_date():
    assert is_total_row(["Total: Account", "", "", "4,532"], date_column=2)
    assert is_total_row(["合计", "", "", "4532"], date_column=2)
    assert not is_total_row(["Summary", "Video", "2026-09-01", "12"], date_column=2)
    assert not is_total_row(["WeChat", "Video", "2026-09-01", "12"], date_column=2)


def test_a_mistyped_date_never_makes_a_total_row():
    assert not is_total_row(["Summary", "Video", "2026-09-31", "12"], date_column=2)
    assert not is_total_row(["Total", "Video", "2026-0901", "12"], date_column=2)
    assert is_total_row(["Total", "", "2026-09-01 - 2026-09-28", "12"], date_column=2)
    assert is_total_row(["Summary", "", "", "12"], date_column=2)


def test_two_columns_naming_one_field_alike_leave_it_ambiguous():
    mapped = map_columns(["Day", "Clicks", "clicks", "点击量", "Cost"], DAILY_FIELDS)
    assert mapped.ambiguous == {"clicks": (1, 2, 3)}
    assert "clicks" not in mapped.columns and mapped.header("spend") == "Cost"
    # A preset's names are its order of preference; only the same header twice is a tie.
    meta = PRESETS["meta-ads"]
    mapped = map_columns(["Day", "Link clicks", "Clicks (all)"], DAILY_FIELDS, meta)
    assert mapped.as_dict()["clicks"] == "Link clicks" and not mapped.ambiguous
    mapped = map_columns(["Day", "Link clicks", "Link clicks"], DAILY_FIELDS, meta)
    assert mapped.ambiguous == {"clicks": (1, 2)}
    # Choosing one settles it.
    mapped = map_columns(["Day", "Clicks", "clicks"], DAILY_FIELDS, overrides={"clicks": "3"})
    assert mapped.columns["clicks"] == 2 and not mapped.ambiguous
