"""The hand-written funnel kernel (``inference.funnel.kernel``) as a model nutpie samples.

The two callbacks are numba ``cfunc``s cached on disk like the kernel, so nothing is
compiled per trial; ``inference.nutpie_adapter`` passes them the trial's ``KernelData``
as a table, which ``unpack`` reads back by name (``KernelField``).
"""

from __future__ import annotations

import numba
import numpy as np

from inference.funnel.data import FunnelData
from inference.funnel.kernel import arm_values, log_density
from inference.funnel.layout import KernelData, initial_point, layout_for, pack
from inference.funnel.layout import KernelField as K
from inference.funnel.spec import ModelSpec
from inference.nutpie_adapter import (
    EXPAND_SIGNATURE,
    LOGP_SIGNATURE,
    callback_model,
    status,
    table_array,
    table_number,
)

__all__ = ["EXPANDED", "sampler_model", "unpack"]

EXPANDED = ("ctr", "cvr", "revenue_per_conversion")
_TABLE = 2 * len(K)


@numba.njit(cache=True)
def unpack(table):
    """The ``KernelData`` a callback's table points to (``pack_table``), viewed in place."""
    arm_channel = table_array(table, K.arm_channel, np.int64)
    n_arms = arm_channel.shape[0]
    return KernelData(
        table_array(table, K.ints, np.int64),
        table_array(table, K.floats, np.float64),
        table_array(table, K.kappa_centre, np.float64).reshape((n_arms, 2)),
        table_array(table, K.kappa_slot, np.int64).reshape((n_arms, 2)),
        arm_channel,
        table_number(table, K.n_channels),
        table_array(table, K.ctr_start, np.int64),
        table_array(table, K.ctr_n, np.float64),
        table_array(table, K.ctr_k, np.float64),
        table_array(table, K.cvr_start, np.int64),
        table_array(table, K.cvr_n, np.float64),
        table_array(table, K.cvr_k, np.float64),
        table_array(table, K.totals, np.float64).reshape((n_arms, 4)),
        table_array(table, K.rev_arm, np.int64),
        table_array(table, K.rev_n, np.float64),
        table_array(table, K.rev_y, np.float64),
        table_array(table, K.rev_logy, np.float64),
    )


@numba.cfunc(LOGP_SIGNATURE, cache=True, nogil=True)
def _logp_callback(dim, x_ptr, grad_ptr, logp_ptr, table_ptr):
    data = unpack(numba.carray(table_ptr, (_TABLE,), dtype=np.uint64))
    grad = numba.carray(grad_ptr, (dim,))
    value = log_density(numba.carray(x_ptr, (dim,)), grad, data)
    return status(value, grad, logp_ptr)


@numba.cfunc(EXPAND_SIGNATURE, cache=True, nogil=True)
def _expand_callback(dim, n_expanded, x_ptr, out_ptr, table_ptr):
    data = unpack(numba.carray(table_ptr, (_TABLE,), dtype=np.uint64))
    n_arms = data.arm_channel.shape[0]
    if n_expanded != 3 * n_arms:
        return -1
    arm_values(numba.carray(x_ptr, (dim,)), data, numba.carray(out_ptr, (3, n_arms)))
    return 0


def sampler_model(data: FunnelData, spec: ModelSpec):
    """A nutpie model of ``spec``'s funnel model on ``data``, ready to sample.

    Draws come back as ``ctr``, ``cvr`` and ``revenue_per_conversion`` with dims ``arm``.
    Starting points: near the pooled data (``layout.initial_point``), jittered by
    U(-0.5, 0.5) per parameter from the chain's seed.
    """
    layout = layout_for(data, spec)
    return callback_model(
        _logp_callback,
        _expand_callback,
        pack(data, layout),
        start=initial_point(data, spec, layout),
        variables=[(name, (data.n_arms,), ("arm",)) for name in EXPANDED],
        coords={"arm": list(data.arms)},
    )
