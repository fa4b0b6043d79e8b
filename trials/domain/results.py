"""An arm's daily numbers: as they arrive, as stored, and summed over the trial."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date

from trials.domain import limits
from trials.domain.enums import ResultSource
from trials.domain.errors import Problem, TrialValidationError
from trials.domain.validation import clean_text, is_int, is_number

__all__ = [
    "ArmTotals",
    "DailyResult",
    "ResultRow",
    "arm_key",
    "merge_segments",
    "segment_key",
]


@dataclass(frozen=True)
class DailyResult:
    """One arm's numbers for one day from one source."""

    arm_id: int
    day: date
    impressions: int
    clicks: int
    conversions: int
    spend: float
    revenue: float
    source: ResultSource = ResultSource.CHANNEL
    import_batch_id: int | None = None
    # A breakdown of the arm-day (customer group, region, device, placement); "" for none.
    segment: str = ""

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise TrialValidationError(problems)

    def problems(self) -> list[Problem]:
        out = []
        for name in ("impressions", "clicks", "conversions"):
            value = getattr(self, name)
            if not is_int(value) or value < 0:
                out.append(Problem(name, "must be a whole number, 0 or more"))
        for name in ("spend", "revenue"):
            value = getattr(self, name)
            if not is_number(value) or value < 0:
                out.append(Problem(name, "must be a finite amount, 0 or more"))
        if not out and self.clicks > self.impressions:
            out.append(Problem("clicks", "are more than impressions"))
        return out


def arm_key(channel: str, creative: str) -> tuple[str, str]:
    """How rows find their arm: channel and creative, ignoring case and extra spaces."""
    return (clean_text(channel).casefold(), clean_text(creative).casefold())


def segment_key(segment: str) -> str:
    """How rows of one arm-day tell their segments apart: ignoring case and extra spaces
    ("" for a row without a segment)."""
    return clean_text(segment).casefold()


def merge_segments(results: Sequence[DailyResult]) -> list[DailyResult]:
    """The arm-level view: one row per arm, day and source, the sum of its segments, in
    the order first seen. Rows without segments come back as they are; a merged row keeps
    the import batch its segments share (None when they came in different imports)."""
    merged: dict[tuple, DailyResult] = {}
    for r in results:
        key = (r.arm_id, r.day, r.source)
        seen = merged.get(key)
        if seen is None:
            merged[key] = replace(r, segment="")
            continue
        merged[key] = replace(
            seen,
            impressions=seen.impressions + r.impressions,
            clicks=seen.clicks + r.clicks,
            conversions=seen.conversions + r.conversions,
            spend=round(seen.spend + r.spend, 6),
            revenue=round(seen.revenue + r.revenue, 6),
            import_batch_id=(
                seen.import_batch_id if seen.import_batch_id == r.import_batch_id else None
            ),
        )
    return list(merged.values())


@dataclass(frozen=True)
class ResultRow:
    """One arm-day as it arrives (from a file or the editing grid), before it is stored.

    The arm is named, not yet resolved to an id, so a file may name arms the trial does
    not have yet. ``row`` is where it came from (file row number; 0 for none).
    """

    channel: str
    creative: str
    day: date
    impressions: int
    clicks: int
    conversions: int
    spend: float
    revenue: float
    row: int = 0
    segment: str = ""  # customer group, region, device or placement; "" for none

    @property
    def key(self) -> tuple[str, str]:
        return arm_key(self.channel, self.creative)

    @property
    def segment_key(self) -> str:
        return segment_key(self.segment)

    def problems(self) -> list[Problem]:
        """What keeps this row from being stored, each tied to its field (the names of
        :data:`~trials.domain.limits.COUNT_FIELDS`, ``MONEY_FIELDS``, ``channel``,
        ``creative``): blank or over-long arm names, numbers out of bounds, more clicks
        than impressions."""
        out = []
        for name, limit in (("channel", limits.CHANNEL), ("creative", limits.CREATIVE)):
            text = clean_text(getattr(self, name))
            if not text:
                out.append(Problem(name, f"the {name} is blank; every row needs one"))
            elif len(text) > limit:
                out.append(Problem(name, f"{limits.text_problem(text, limit)} for a {name} name"))
        why = limits.text_problem(clean_text(self.segment), limits.SEGMENT)
        if why:
            out.append(Problem("segment", f"the segment {why}"))
        fields = (*limits.COUNT_FIELDS, *limits.MONEY_FIELDS)
        out.extend(limits.number_problems({name: getattr(self, name) for name in fields}))
        if not out and self.clicks > self.impressions:
            out.append(
                Problem(
                    "clicks",
                    f"{self.clicks:,} clicks but only {self.impressions:,} impressions",
                )
            )
        return out

    @property
    def arm_name(self) -> str:
        return f"{clean_text(self.channel)} · {clean_text(self.creative)}"


@dataclass(frozen=True)
class ArmTotals:
    """Sums over an arm's daily results; zeros when there is no data yet."""

    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    spend: float = 0.0
    revenue: float = 0.0
    days: int = 0

    def as_dict(self) -> dict[str, int | float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
