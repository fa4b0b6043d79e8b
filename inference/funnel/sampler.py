"""The hand-written funnel density (``inference.funnel.kernel``) as a model nutpie samples.

nutpie's Rust sampler calls the log density through C function pointers, the way it runs
PyMC models compiled with numba, so no Python runs between gradient evaluations and both
chains work in parallel. The callbacks are numba ``cfunc``s cached on disk like the
kernel: nothing is compiled per trial. A trial's arrays reach them through a table of
(address, length) pairs; the model object keeps the arrays alive while it samples.

This leans on nutpie's ``CompiledPyMCModel`` container (the pinned nutpie 0.16.8);
every MCMC test in ``tests/inference/test_fit.py`` samples through it, so an upgrade that
changes it fails there first.
"""

from __future__ import annotations

import itertools

import numba
import numpy as np
from numba.core import cgutils, types
from numba.extending import intrinsic

from inference.curve.kernel import EXPANDED as CURVE_EXPANDED
from inference.curve.kernel import curve_expand, curve_log_density
from inference.funnel.data import FunnelData
from inference.funnel.kernel import (
    arm_values,
    density_arrays,
    initial_point,
    layout_for,
    log_density,
)
from inference.funnel.spec import ModelSpec

__all__ = [
    "EXPANDED",
    "callback_model",
    "curve_sampler_model",
    "sampler_model",
    "table_array",
]

EXPANDED = ("ctr", "cvr", "revenue_per_conversion")
# The table: (address, length) of each array, in this order.
_ARRAYS = (
    "ints",
    "floats",
    "kappa_centre",
    "kappa_slot",
    "arm_channel",
    "ctr_start",
    "ctr_n",
    "ctr_k",
    "cvr_start",
    "cvr_n",
    "cvr_k",
    "totals",
    "rev_arm",
    "rev_n",
    "rev_y",
    "rev_logy",
)
_N_CHANNELS = 2 * len(_ARRAYS)
_TABLE = _N_CHANNELS + 1
_CURVE_ARRAYS = ("floats", "x", "conversions", "revenue", "has_orders", "log_revenue")
_CURVE_TABLE = 2 * len(_CURVE_ARRAYS)
_CURVE_N_EXPANDED = len(CURVE_EXPANDED)


@intrinsic
def _pointer(typingctx, address):
    """The integer ``address`` as a void pointer."""
    sig = types.voidptr(address)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return sig, codegen


@numba.njit(cache=True)
def table_array(table, i, dtype):
    """The ``i``-th array of a callback's table, viewed in place."""
    return numba.carray(_pointer(table[2 * i]), (table[2 * i + 1],), dtype=dtype)


@numba.njit(cache=True)
def _status(value, grad, logp_ptr):
    """Store the log density for nutpie and say whether it is usable: 0 yes, 3 a
    non-finite gradient, 4 a non-finite density (nutpie treats both as a divergence)."""
    numba.carray(logp_ptr, (1,))[0] = value
    for j in range(grad.shape[0]):
        if not np.isfinite(grad[j]):
            return 3
    return 0 if np.isfinite(value) else 4


_LOGP_SIG = types.int64(
    types.uint64,
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.voidptr,
)
_EXPAND_SIG = types.int64(
    types.uint64,
    types.uint64,
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.voidptr,
)


@numba.cfunc(_LOGP_SIG, cache=True, nogil=True)
def _logp_callback(dim, x_ptr, grad_ptr, logp_ptr, table_ptr):
    table = numba.carray(table_ptr, (_TABLE,), dtype=np.uint64)
    x = numba.carray(x_ptr, (dim,))
    grad = numba.carray(grad_ptr, (dim,))
    arm_channel = table_array(table, 4, np.int64)
    n_arms = arm_channel.shape[0]
    value = log_density(
        x,
        grad,
        table_array(table, 0, np.int64),
        table_array(table, 1, np.float64),
        table_array(table, 2, np.float64).reshape((n_arms, 2)),
        table_array(table, 3, np.int64).reshape((n_arms, 2)),
        arm_channel,
        np.int64(table[_N_CHANNELS]),
        table_array(table, 5, np.int64),
        table_array(table, 6, np.float64),
        table_array(table, 7, np.float64),
        table_array(table, 8, np.int64),
        table_array(table, 9, np.float64),
        table_array(table, 10, np.float64),
        table_array(table, 11, np.float64).reshape((n_arms, 4)),
        table_array(table, 12, np.int64),
        table_array(table, 13, np.float64),
        table_array(table, 14, np.float64),
        table_array(table, 15, np.float64),
    )
    return _status(value, grad, logp_ptr)


@numba.cfunc(_EXPAND_SIG, cache=True, nogil=True)
def _expand_callback(dim, n_expanded, x_ptr, out_ptr, table_ptr):
    table = numba.carray(table_ptr, (_TABLE,), dtype=np.uint64)
    arm_channel = table_array(table, 4, np.int64)
    n_arms = arm_channel.shape[0]
    if n_expanded != 3 * n_arms:
        return -1
    out = numba.carray(out_ptr, (3, n_arms))
    arm_values(
        numba.carray(x_ptr, (dim,)),
        table_array(table, 0, np.int64),
        table_array(table, 1, np.float64),
        arm_channel,
        np.int64(table[_N_CHANNELS]),
        out,
    )
    return 0


@numba.cfunc(_LOGP_SIG, cache=True, nogil=True)
def _curve_logp_callback(dim, u_ptr, grad_ptr, logp_ptr, table_ptr):
    table = numba.carray(table_ptr, (_CURVE_TABLE,), dtype=np.uint64)
    grad = numba.carray(grad_ptr, (dim,))
    value = curve_log_density(
        numba.carray(u_ptr, (dim,)),
        grad,
        table_array(table, 0, np.float64),
        table_array(table, 1, np.float64),
        table_array(table, 2, np.float64),
        table_array(table, 3, np.float64),
        table_array(table, 4, np.float64),
        table_array(table, 5, np.float64),
    )
    return _status(value, grad, logp_ptr)


@numba.cfunc(_EXPAND_SIG, cache=True, nogil=True)
def _curve_expand_callback(dim, n_expanded, u_ptr, out_ptr, table_ptr):
    if n_expanded != _CURVE_N_EXPANDED:
        return -1
    curve_expand(numba.carray(u_ptr, (dim,)), numba.carray(out_ptr, (_CURVE_N_EXPANDED,)))
    return 0


def curve_sampler_model(floats, x, conversions, revenue, has_orders, start):
    """A nutpie model of one arm's response curve (``inference.curve.kernel``)."""
    log_revenue = np.log(np.where(has_orders > 0, revenue, 1.0))
    return callback_model(
        _curve_logp_callback,
        _curve_expand_callback,
        {
            name: np.asarray(values, dtype=np.float64)
            for name, values in zip(
                _CURVE_ARRAYS,
                (floats, x, conversions, revenue, has_orders, log_revenue),
                strict=True,
            )
        },
        scalars=[],
        start=np.asarray(start, dtype=np.float64),
        variables=[(name, (), ()) for name in CURVE_EXPANDED],
        coords={},
    )


def sampler_model(data: FunnelData, spec: ModelSpec):
    """A nutpie model of ``spec``'s funnel model on ``data``, ready to sample.

    Draws come back as ``ctr``, ``cvr`` and ``revenue_per_conversion`` with dims ``arm``.
    Starting points: near the pooled data (``density.initial_point``), jittered by
    U(-0.5, 0.5) per parameter from the chain's seed.
    """
    layout = layout_for(data, spec)
    arm_channel, n_channels, *rows = density_arrays(data)
    n_arms = data.n_arms
    return callback_model(
        _logp_callback,
        _expand_callback,
        dict(
            zip(
                _ARRAYS,
                [
                    layout.ints,
                    layout.floats,
                    layout.kappa_centre,
                    layout.kappa_slot,
                    arm_channel,
                    *rows,
                ],
                strict=True,
            )
        ),
        scalars=[int(n_channels)],
        start=initial_point(data, spec, layout),
        variables=[(name, (n_arms,), ("arm",)) for name in EXPANDED],
        coords={"arm": list(data.arms)},
    )


def callback_model(logp, expand, arrays, *, scalars, start, variables, coords):
    """nutpie's container for a model given as two numba ``cfunc``s.

    ``arrays`` (name -> array, in the order the callbacks read them) are passed as a table
    of (address, length) pairs followed by the integer ``scalars``; ``variables`` lists
    what ``expand`` writes, as (name, shape, dims). Chains start at ``start`` plus
    U(-0.5, 0.5) jitter drawn from their seed.
    """
    import pandas as pd
    from nutpie.compile_pymc import CompiledPyMCModel

    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    table = np.zeros(2 * len(arrays) + len(scalars), dtype=np.uint64)
    for i, array in enumerate(arrays.values()):
        table[2 * i] = array.ctypes.data if array.size else 0
        table[2 * i + 1] = array.size
    for j, value in enumerate(scalars):
        table[2 * len(arrays) + j] = value

    def initial_points(seed):
        return start + np.random.default_rng(seed).uniform(-0.5, 0.5, start.size)

    names = [name for name, _, _ in variables]
    shapes = [shape for _, shape, _ in variables]
    sizes = [int(np.prod(shape)) for shape in shapes]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    return CompiledPyMCModel(
        _n_dim=start.size,
        dims={name: dims for name, _, dims in variables if dims},
        _coords={name: pd.Index(values) for name, values in coords.items()},
        _shapes=dict(zip(names, shapes, strict=True)),
        compiled_logp_func=logp,
        compiled_expand_func=expand,
        initial_point_func=initial_points,
        # Kept here so the arrays the table points into live as long as the model.
        shared_data=arrays,
        user_data=table,
        n_expanded=int(offsets[-1]),
        shape_info=(names, [slice(a, b) for a, b in itertools.pairwise(offsets)], shapes),
        logp_func=None,
        expand_func=None,
    )
