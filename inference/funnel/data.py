"""A trial's funnel data in the arrays the models read.

``FunnelData`` knows nothing of databases or of the ``trials`` package: one row per arm
and day with impressions, clicks, conversions, spend and revenue, plus which channel each
arm belongs to. It checks its own consistency and keeps a digest of its contents, so
fits can be cached per data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ArmTotalsArray", "FunnelData"]


@dataclass(frozen=True, eq=False)
class FunnelData:
    """Daily funnel counts for the arms of one trial.

    Attributes
    ----------
    arms, channels
        Labels, in order. ``arm_channel[i]`` is the index in ``channels`` of arm ``i``.
    days
        ISO dates of the observation days, sorted; ``day[j]`` indexes into it.
    arm, day, impressions, clicks, conversions, spend, revenue
        One entry per observed arm-day.
    """

    arms: tuple[str, ...]
    channels: tuple[str, ...]
    arm_channel: np.ndarray
    days: tuple[str, ...]
    arm: np.ndarray
    day: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    conversions: np.ndarray
    spend: np.ndarray
    revenue: np.ndarray

    def __post_init__(self) -> None:
        n_obs = len(self.arm)
        for name in ("day", "impressions", "clicks", "conversions", "spend", "revenue"):
            if len(getattr(self, name)) != n_obs:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, arm has {n_obs}")
        if len(self.arm_channel) != len(self.arms):
            raise ValueError("arm_channel must give a channel for every arm")
        if n_obs and (self.arm.min() < 0 or self.arm.max() >= len(self.arms)):
            raise ValueError("arm index out of range")
        if len(self.arms) and (
            self.arm_channel.min() < 0 or self.arm_channel.max() >= len(self.channels)
        ):
            raise ValueError("channel index out of range")
        counts = (self.impressions, self.clicks, self.conversions)
        if any((c < 0).any() for c in counts) or (self.spend < 0).any() or (self.revenue < 0).any():
            raise ValueError("counts, spend and revenue must not be negative")
        if (self.clicks > self.impressions).any():
            raise ValueError("clicks exceed impressions on some rows")
        for array in self.__dict__.values():
            if isinstance(array, np.ndarray):
                array.setflags(write=False)

    @classmethod
    def from_rows(
        cls,
        arms: Sequence[tuple[str, str]],
        rows: Sequence[dict],
    ) -> FunnelData:
        """Build from arm (channel, label) pairs and row dicts.

        Each row has ``arm`` (index into ``arms``), ``day`` (ISO date string or date),
        ``impressions``, ``clicks``, ``conversions``, ``spend`` and ``revenue``.
        """
        channels = tuple(dict.fromkeys(channel for channel, _ in arms))
        days = tuple(sorted({str(r["day"]) for r in rows}))
        day_index = {d: i for i, d in enumerate(days)}
        return cls(
            arms=tuple(label for _, label in arms),
            channels=channels,
            arm_channel=np.array([channels.index(c) for c, _ in arms], dtype=np.int64),
            days=days,
            arm=np.array([r["arm"] for r in rows], dtype=np.int64),
            day=np.array([day_index[str(r["day"])] for r in rows], dtype=np.int64),
            impressions=np.array([r["impressions"] for r in rows], dtype=np.int64),
            clicks=np.array([r["clicks"] for r in rows], dtype=np.int64),
            conversions=np.array([r["conversions"] for r in rows], dtype=np.int64),
            spend=np.array([r["spend"] for r in rows], dtype=np.float64),
            revenue=np.array([r["revenue"] for r in rows], dtype=np.float64),
        )

    def where(self, rows: np.ndarray) -> FunnelData:
        """The same arms with only the rows where ``rows`` (a boolean mask) holds; the days
        are those of the kept rows."""
        rows = np.asarray(rows, dtype=bool)
        kept = np.unique(self.day[rows])
        index = np.full(len(self.days), -1, dtype=np.int64)
        index[kept] = np.arange(len(kept))
        return FunnelData(
            arms=self.arms,
            channels=self.channels,
            arm_channel=self.arm_channel.copy(),
            days=tuple(self.days[i] for i in kept),
            arm=self.arm[rows],
            day=index[self.day[rows]],
            impressions=self.impressions[rows],
            clicks=self.clicks[rows],
            conversions=self.conversions[rows],
            spend=self.spend[rows],
            revenue=self.revenue[rows],
        )

    @property
    def n_arms(self) -> int:
        return len(self.arms)

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def paired(self) -> np.ndarray:
        """Rows whose conversions the day's clicks can explain: some clicks, and no more
        conversions than clicks. Only these inform the conversion rate."""
        return (self.clicks > 0) & (self.conversions <= self.clicks)

    @property
    def converted_clicks(self) -> np.ndarray:
        """Conversions counted against clicks: those of paired rows (0 elsewhere).

        A day with more conversions than clicks (platforms add view-through conversions
        that had no click) or with conversions but no clicks (late conversions after a
        pause) cannot say which clicks converted; it is left out of the conversion rate,
        never read as a day on which every click converted, and its conversions count
        as unpaired conversions (``unpaired_conversions``) for ROAS and CPA.
        """
        return np.where(self.paired, self.conversions, 0)

    @property
    def paired_clicks(self) -> np.ndarray:
        return np.where(self.paired, self.clicks, 0)

    @property
    def unpaired_conversions(self) -> np.ndarray:
        return np.where(self.paired, 0, self.conversions)

    @property
    def view_through_excess(self) -> int:
        """Conversions on rows whose clicks cannot explain them (see ``converted_clicks``)."""
        return int(self.unpaired_conversions.sum())

    @property
    def has_revenue(self) -> np.ndarray:
        """Rows that inform order values: some conversions and some revenue."""
        return (self.conversions > 0) & (self.revenue > 0)

    def order_totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Per arm: orders and revenue on the rows that have both."""
        rows = self.has_revenue
        orders = np.bincount(self.arm[rows], weights=self.conversions[rows], minlength=self.n_arms)
        revenue = np.bincount(self.arm[rows], weights=self.revenue[rows], minlength=self.n_arms)
        return orders, revenue

    def pooled_order_value(self) -> float:
        """Revenue per order over the whole trial (1.0 before any order)."""
        orders, revenue = self.order_totals()
        return float(revenue.sum() / orders.sum()) if orders.sum() else 1.0

    def totals(self) -> ArmTotalsArray:
        """Per-arm sums, computed once per data (the model, its notes and the derived
        quantities all read them) and returned read-only."""
        cached = self.__dict__.get("_totals")
        if cached is None:
            cached = self._totals()
            self.__dict__["_totals"] = cached  # frozen: set beside the dataclass fields
        return cached

    def _totals(self) -> ArmTotalsArray:
        def per_arm(values: np.ndarray) -> np.ndarray:
            return np.bincount(self.arm, weights=values, minlength=self.n_arms)

        def count(values: np.ndarray) -> np.ndarray:
            return per_arm(values).round().astype(np.int64)

        def days_where(rows: np.ndarray) -> np.ndarray:
            """Distinct days per arm among ``rows``."""
            pairs = np.unique(self.arm[rows] * len(self.days) + self.day[rows])
            return np.bincount(pairs // max(len(self.days), 1), minlength=self.n_arms)

        paying = self.has_revenue
        return ArmTotalsArray(
            impressions=count(self.impressions),
            clicks=count(self.clicks),
            conversions=count(self.conversions),
            converted_clicks=count(self.converted_clicks),
            spend=per_arm(self.spend),
            revenue=per_arm(self.revenue),
            days=days_where(np.ones(len(self.arm), dtype=bool)),
            paired_clicks=count(self.paired_clicks),
            unpaired_conversions=count(self.unpaired_conversions),
            paying_conversions=count(np.where(paying, self.conversions, 0)),
            paid_revenue=per_arm(np.where(paying, self.revenue, 0.0)),
            paired_days=days_where(self.paired),
        )

    def digest(self) -> str:
        """A fingerprint of the contents (labels and numbers), for caching fits."""
        h = hashlib.sha256()
        for label in (*self.arms, "|", *self.channels, "|", *self.days):
            h.update(label.encode("utf-8") + b"\x1f")
        for array in (
            self.arm_channel,
            self.arm,
            self.day,
            self.impressions,
            self.clicks,
            self.conversions,
            self.spend,
            self.revenue,
        ):
            h.update(np.ascontiguousarray(array).tobytes())
        return h.hexdigest()


@dataclass(frozen=True, eq=False)
class ArmTotalsArray:
    """Per-arm sums, as arrays in arm order."""

    impressions: np.ndarray
    clicks: np.ndarray
    conversions: np.ndarray
    converted_clicks: np.ndarray
    spend: np.ndarray
    revenue: np.ndarray
    days: np.ndarray
    # Clicks of paired rows (those whose clicks explain their conversions), conversions
    # of the other rows, conversions on rows with revenue and the revenue of those rows.
    paired_clicks: np.ndarray
    unpaired_conversions: np.ndarray
    paying_conversions: np.ndarray
    paid_revenue: np.ndarray
    # Paired days (what the conversion rate's day-to-day variation is learned from).
    paired_days: np.ndarray

    def __post_init__(self) -> None:
        for array in self.__dict__.values():
            array.setflags(write=False)

    @property
    def zero_revenue_conversions(self) -> np.ndarray:
        """Conversions on rows without revenue (free sign-ups, cancelled orders)."""
        return self.conversions - self.paying_conversions

    @property
    def unpaid_revenue(self) -> np.ndarray:
        """Revenue on rows without conversions (value adjustments)."""
        return self.revenue - self.paid_revenue

    @property
    def impressions_per_spend(self) -> np.ndarray:
        """Impressions bought per unit of spend (NaN where nothing was spent)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.spend > 0, self.impressions / self.spend, np.nan)
