"""What the hand-written funnel kernel reads: where each parameter sits in the
unconstrained vector (``Layout``), and the kernel's data arguments (``KernelData``),
declared once and filled by one packer (``pack``).

The unconstrained parameters are laid out in blocks named like PyMC's value variables
(``ctr_mu``, ``ctr_sd_arm_log__``, ``ctr_arm_z``, ...), in the order
``inference.funnel.spec.parameters`` declares them. ``Layout.ints`` carries the blocks'
offsets and the model's switches to the kernel, ``Layout.floats`` the prior constants;
both are indexed by the named slots below, generated from one tuple of names each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from inference.funnel.data import FunnelData
from inference.funnel.levels import (
    arm_level_centred,
    concentration_log_sd,
    kappa_centres,
    kappa_slots,
    structure,
)
from inference.funnel.spec import QUANTITIES, ModelSpec
from inference.positions import named_positions

__all__ = [
    "STRIDE",
    "GlobalFloat",
    "GlobalInt",
    "KernelData",
    "KernelField",
    "Layout",
    "LevelFloat",
    "LevelInt",
    "initial_point",
    "layout_for",
    "pack",
]

# Per pooled quantity q (``QUANTITIES``), ``STRIDE`` integers in ``ints`` at q * STRIDE + one
# of these: the mode (0 partial, 1 none), then offsets into x of: the trial mean (-1
# without a channel level; with mode 1, of the per-arm values), the channel log-sd, the
# channel values (free channels with their own prior when there is no channel level),
# whether channels are centred, the arm log-sd, the arm values, whether arms are centred
# (-1 where absent).
LEVEL_INTS = ("MODE", "MU", "CH_SD", "CH_VAL", "CH_CENTRED", "ARM_SD", "ARM_VAL", "ARM_CENTRED")
# Per quantity, floats at q * STRIDE + one of these (the last of the stride is unused).
LEVEL_FLOATS = ("CENTER", "SD0", "LOG_CH_SPREAD", "LOG_ARM_SPREAD", "SPREAD_SD", "BETA_A", "BETA_B")
STRIDE = len(LEVEL_INTS)
# After the quantities. ints: offsets of the order-value log-CV and of the CTR and CVR
# learned log-concentrations (``kappa_slot`` says which arm is where), and whether counts
# are overdispersed. floats: the log-CV's prior median and sd, the CV floor, the
# log-concentrations' prior sd.
GLOBAL_INTS = ("CV", "KAPPA_CTR", "KAPPA_CVR", "OVERDISPERSED")
GLOBAL_FLOATS = ("CV", "CV_SD", "CV_FLOOR", "KAPPA_SD")

LevelInt = named_positions("LevelInt", LEVEL_INTS)
LevelFloat = named_positions("LevelFloat", LEVEL_FLOATS)
GlobalInt = named_positions("GlobalInt", GLOBAL_INTS, start=len(QUANTITIES) * STRIDE)
GlobalFloat = named_positions("GlobalFloat", GLOBAL_FLOATS, start=len(QUANTITIES) * STRIDE)
N_INTS = len(QUANTITIES) * STRIDE + len(GLOBAL_INTS)
N_FLOATS = len(QUANTITIES) * STRIDE + len(GLOBAL_FLOATS)


class KernelData(NamedTuple):
    """The kernel's data arguments (``log_density(x, grad, data)``), in the dtypes it is
    compiled for. The only list of them: the packer fills it, the sampler's callbacks
    read it back from nutpie's table (``KernelField`` names the positions).

    Each funnel stage's rows are grouped by arm (``*_start[a]:*_start[a + 1]`` are arm
    a's rows), so the kernel keeps an arm's parameters in registers while it runs through
    them. Days with no impressions (clicks) add nothing to the CTR (CVR) stage and are
    left out.
    """

    ints: np.ndarray  # int64 (N_INTS,): offsets and switches, by ``LevelInt``/``GlobalInt``
    floats: np.ndarray  # float64 (N_FLOATS,): prior constants, by ``LevelFloat``/``GlobalFloat``
    kappa_centre: np.ndarray  # float64 (arms, 2): prior medians of log kappa (CTR, CVR)
    kappa_slot: np.ndarray  # int64 (arms, 2): index among learned concentrations, -1 fixed
    arm_channel: np.ndarray  # int64 (arms,): each arm's channel
    n_channels: np.int64
    ctr_start: np.ndarray  # int64 (arms + 1,): CTR rows of arm a
    ctr_n: np.ndarray  # float64 (rows,): impressions
    ctr_k: np.ndarray  # float64 (rows,): clicks
    cvr_start: np.ndarray  # int64 (arms + 1,): CVR rows of arm a (paired days)
    cvr_n: np.ndarray  # float64 (rows,): clicks
    cvr_k: np.ndarray  # float64 (rows,): converted clicks
    totals: np.ndarray  # float64 (arms, 4): clicks, non-clicks, conversions, non-conversions
    rev_arm: np.ndarray  # int64 (rows,): the arm of each day with orders and revenue
    rev_n: np.ndarray  # float64 (rows,): orders
    rev_y: np.ndarray  # float64 (rows,): revenue
    rev_logy: np.ndarray  # float64 (rows,): log revenue


KernelField = named_positions("KernelField", KernelData._fields)


@dataclass(frozen=True)
class Layout:
    """Where each block of parameters sits in the unconstrained vector.

    ``blocks`` names them as PyMC names its value variables, with their sizes, in order;
    ``ints`` and ``floats`` carry offsets, switches and prior constants to the kernel;
    ``kappa_centre`` the per-arm prior medians of log concentration (CTR, CVR columns);
    ``kappa_slot`` each arm's index among the learned concentrations, -1 where fixed.
    """

    blocks: tuple[tuple[str, int], ...]
    ints: np.ndarray
    floats: np.ndarray
    kappa_centre: np.ndarray
    kappa_slot: np.ndarray

    @property
    def n_dim(self) -> int:
        return sum(size for _, size in self.blocks)

    def offsets(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, size in self.blocks:
            out[name] = slice(start, start + size)
            start += size
        return out


class _Blocks:
    """The parameter vector's blocks in order, each added at the next free offset."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, int]] = []

    def add(self, name: str, size: int) -> int:
        start = sum(s for _, s in self.blocks)
        self.blocks.append((name, size))
        return start


def layout_for(data: FunnelData, spec: ModelSpec) -> Layout:
    """The parameter layout of ``spec``'s model for ``data`` (as ``build_funnel_model``)."""
    ints = np.full(N_INTS, -1, dtype=np.int64)
    floats = np.zeros(N_FLOATS)
    blocks = _Blocks()
    _level_floats(data, spec.priors, floats)
    for q, name in enumerate(QUANTITIES):
        _level_blocks(data, spec, q, name, ints, blocks)
    slots = kappa_slots(data)
    _global_blocks(spec, slots, ints, floats, blocks)
    return Layout(
        blocks=tuple(blocks.blocks),
        ints=ints,
        floats=floats,
        kappa_centre=np.ascontiguousarray(kappa_centres(data, spec)),
        kappa_slot=np.ascontiguousarray(slots),
    )


def _level_floats(data: FunnelData, p, floats: np.ndarray) -> None:
    """Each quantity's prior constants: centre, its sd, the two spreads, their sd, Beta."""
    centers = {
        "ctr": (math.log(p.ctr_mean / (1 - p.ctr_mean)), p.rate_logit_sd),
        "cvr": (math.log(p.cvr_mean / (1 - p.cvr_mean)), p.rate_logit_sd),
        "log_order_value": (math.log(data.pooled_order_value()), p.revenue_log_sd),
    }
    spreads = {
        "ctr": (p.channel_spread, p.arm_spread),
        "cvr": (p.channel_spread, p.arm_spread),
        "log_order_value": (p.revenue_channel_spread, p.revenue_arm_spread),
    }
    for q, name in enumerate(QUANTITIES):
        i = q * STRIDE
        floats[i : i + len(LEVEL_FLOATS)] = (
            *centers[name],
            math.log(spreads[name][0]),
            math.log(spreads[name][1]),
            p.spread_sd,
            p.beta_a,
            p.beta_b,
        )


def _level_blocks(
    data: FunnelData, spec: ModelSpec, q: int, name: str, ints: np.ndarray, blocks: _Blocks
) -> None:
    """One quantity's blocks: per-arm values unpooled; else channel and arm levels."""
    i = q * STRIDE
    if spec.pooling == "none":
        ints[i + LevelInt.MODE] = 1
        values = "log_order_value" if q == 2 else f"{name}_rate_logodds__"
        ints[i + LevelInt.MU] = blocks.add(values, data.n_arms)
        return
    channel_level, arm_level = structure(data)
    ints[i + LevelInt.MODE] = 0
    if channel_level:
        centred = spec.parameterization != "non_centred"
        ints[i + LevelInt.MU] = blocks.add(f"{name}_mu", 1)
        ints[i + LevelInt.CH_SD] = blocks.add(f"{name}_sd_channel_log__", 1)
        suffix = "" if centred else "_z"
        ints[i + LevelInt.CH_VAL] = blocks.add(f"{name}_channel{suffix}", data.n_channels)
        ints[i + LevelInt.CH_CENTRED] = int(centred)
    else:
        ints[i + LevelInt.CH_VAL] = blocks.add(f"{name}_channel", data.n_channels)
    if arm_level:
        centred = arm_level_centred(data, spec)[name]
        ints[i + LevelInt.ARM_SD] = blocks.add(f"{name}_sd_arm_log__", 1)
        arms = f"{name}_arm" if centred else f"{name}_arm_z"
        ints[i + LevelInt.ARM_VAL] = blocks.add(arms, data.n_arms)
        ints[i + LevelInt.ARM_CENTRED] = int(centred)


def _global_blocks(
    spec: ModelSpec, slots: np.ndarray, ints: np.ndarray, floats: np.ndarray, blocks: _Blocks
) -> None:
    """The learned day-to-day concentrations (per arm with enough days) and order-value CV."""
    p = spec.priors
    ints[GlobalInt.OVERDISPERSED] = int(spec.overdispersion)
    if spec.overdispersion:
        for column, (at, name) in enumerate(
            ((GlobalInt.KAPPA_CTR, "ctr"), (GlobalInt.KAPPA_CVR, "cvr"))
        ):
            learned = int((slots[:, column] >= 0).sum())
            ints[at] = blocks.add(f"{name}_concentration_log__", learned) if learned else 0
    ints[GlobalInt.CV] = blocks.add("order_value_cv_log__", 1)
    floats[GlobalFloat.CV] = math.log(p.order_value_cv)
    floats[GlobalFloat.CV_SD] = p.order_value_cv_log_sd
    floats[GlobalFloat.CV_FLOOR] = p.order_value_cv_floor
    floats[GlobalFloat.KAPPA_SD] = concentration_log_sd(spec)


def pack(data: FunnelData, layout: Layout) -> KernelData:
    """The kernel's data arguments for ``data`` under ``layout``: the one packer."""
    n, k = data.impressions, data.clicks
    m, j = data.paired_clicks, data.converted_clicks
    totals = np.zeros((data.n_arms, 4))
    for column, values in enumerate((k, n - k, j, m - j)):
        totals[:, column] = np.bincount(data.arm, weights=values, minlength=data.n_arms)
    rev = data.has_revenue

    def by_arm(trials: np.ndarray, successes: np.ndarray):
        keep = np.flatnonzero(trials > 0)
        order = keep[np.argsort(data.arm[keep], kind="stable")]
        counts = np.bincount(data.arm[order], minlength=data.n_arms)
        start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return start, trials[order].astype(np.float64), successes[order].astype(np.float64)

    ctr_start, ctr_n, ctr_k = by_arm(n, k)
    cvr_start, cvr_n, cvr_k = by_arm(m, j)
    return KernelData(
        ints=layout.ints,
        floats=layout.floats,
        kappa_centre=layout.kappa_centre,
        kappa_slot=layout.kappa_slot,
        arm_channel=np.ascontiguousarray(data.arm_channel, dtype=np.int64),
        n_channels=np.int64(data.n_channels),
        ctr_start=ctr_start,
        ctr_n=ctr_n,
        ctr_k=ctr_k,
        cvr_start=cvr_start,
        cvr_n=cvr_n,
        cvr_k=cvr_k,
        totals=totals,
        rev_arm=np.ascontiguousarray(data.arm[rev], dtype=np.int64),
        rev_n=data.conversions[rev].astype(np.float64),
        rev_y=data.revenue[rev].astype(np.float64),
        rev_logy=np.log(data.revenue[rev]).astype(np.float64),
    )


def initial_point(data: FunnelData, spec: ModelSpec, layout: Layout | None = None) -> np.ndarray:
    """A starting point near the data: every arm at the trial's pooled rates and order
    value, spreads and concentrations at their prior medians (the sampler adds jitter)."""
    layout = layout or layout_for(data, spec)
    totals = data.totals()
    pooled = {
        "ctr": (totals.clicks.sum() + 0.5) / (totals.impressions.sum() + 1.0),
        "cvr": (totals.converted_clicks.sum() + 0.5) / (totals.paired_clicks.sum() + 1.0),
    }
    x = np.zeros(layout.n_dim)
    for name, where in layout.offsets().items():
        if name.endswith("_z"):
            value = 0.0
        elif name == "ctr_concentration_log__":
            value = layout.kappa_centre[layout.kappa_slot[:, 0] >= 0, 0]
        elif name == "cvr_concentration_log__":
            value = layout.kappa_centre[layout.kappa_slot[:, 1] >= 0, 1]
        elif name.endswith("_log__"):
            value = _prior_log_median(name, spec)
        elif name.startswith("log_order_value"):
            value = math.log(data.pooled_order_value())
        else:
            rate = pooled[name[:3]]
            value = math.log(rate / (1 - rate))
        x[where] = value
    return x


def _prior_log_median(name: str, spec: ModelSpec) -> float:
    p = spec.priors
    if name == "order_value_cv_log__":
        return math.log(p.order_value_cv)
    revenue = name.startswith("log_order_value")
    if "channel" in name:
        return math.log(p.revenue_channel_spread if revenue else p.channel_spread)
    return math.log(p.revenue_arm_spread if revenue else p.arm_spread)
