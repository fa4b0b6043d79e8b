"""The hand-written curve kernel (``inference.curve.kernel``) as a model nutpie samples,
through two numba ``cfunc``s cached on disk (``inference.nutpie_adapter``)."""

from __future__ import annotations

import numba
import numpy as np

from inference.curve.data import SpendLadder
from inference.curve.kernel import curve_expand, curve_log_density
from inference.curve.layout import EXPANDED, CurveData, pack, start
from inference.curve.layout import CurveField as C
from inference.curve.spec import SaturationPriors
from inference.nutpie_adapter import (
    EXPAND_SIGNATURE,
    LOGP_SIGNATURE,
    callback_model,
    status,
    table_array,
)

__all__ = ["sampler_model", "unpack"]

_TABLE = 2 * len(C)
_N_EXPANDED = len(EXPANDED)


@numba.njit(cache=True)
def unpack(table):
    """The ``CurveData`` a callback's table points to (``pack_table``), viewed in place."""
    return CurveData(
        table_array(table, C.floats, np.float64),
        table_array(table, C.x, np.float64),
        table_array(table, C.conversions, np.float64),
        table_array(table, C.revenue, np.float64),
        table_array(table, C.has_orders, np.float64),
        table_array(table, C.log_revenue, np.float64),
    )


@numba.cfunc(LOGP_SIGNATURE, cache=True, nogil=True)
def _logp_callback(dim, u_ptr, grad_ptr, logp_ptr, table_ptr):
    data = unpack(numba.carray(table_ptr, (_TABLE,), dtype=np.uint64))
    grad = numba.carray(grad_ptr, (dim,))
    value = curve_log_density(numba.carray(u_ptr, (dim,)), grad, data)
    return status(value, grad, logp_ptr)


@numba.cfunc(EXPAND_SIGNATURE, cache=True, nogil=True)
def _expand_callback(dim, n_expanded, u_ptr, out_ptr, table_ptr):
    if n_expanded != _N_EXPANDED:
        return -1
    curve_expand(numba.carray(u_ptr, (dim,)), numba.carray(out_ptr, (_N_EXPANDED,)))
    return 0


def sampler_model(ladder: SpendLadder, priors: SaturationPriors):
    """A nutpie model of one arm's response curve, starting at the priors' centres."""
    data = pack(ladder, priors)
    return callback_model(
        _logp_callback,
        _expand_callback,
        data,
        start=start(data.floats),
        variables=[(name, (), ()) for name in EXPANDED],
        coords={},
    )
