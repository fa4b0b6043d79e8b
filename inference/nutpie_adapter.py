"""The one module that drives nutpie, and the only one that touches its internals.

nutpie's Rust sampler calls a model's log density through C function pointers, the way it
runs PyMC models compiled with numba, so no Python runs between gradient evaluations and
both chains work in parallel. The hand-written kernels (``inference.funnel.sampler``,
``inference.curve.sampler``) are handed to it as numba ``cfunc``s with the signatures
below, cached on disk like the kernels: nothing is compiled per trial. A trial's arrays
reach the callbacks through a table of two unsigned integers per argument (an array's
address and length; a whole number in place of an address, with length 0); the model
object keeps the arrays alive while it samples.

This leans on nutpie's private ``CompiledPyMCModel`` container and on the sampler's raw
trace for progress, both as in the pinned nutpie (``NUTPIE_VERSION``, the pin in
requirements.txt): any other version is refused with a clear message before sampling.
Every MCMC test samples through here, so an upgrade that changes them fails there first.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

import numba
import numpy as np
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = [
    "EXPAND_SIGNATURE",
    "LOGP_SIGNATURE",
    "NUTPIE_VERSION",
    "NutpieVersionError",
    "callback_model",
    "compile_pymc_model",
    "draws_done",
    "nutpie_module",
    "pack_table",
    "sample",
    "status",
    "table_array",
    "table_number",
]

NUTPIE_VERSION = "0.16.8"

# What nutpie calls: logp(dim, x, grad out, logp out, table) and
# expand(dim, n_expanded, x, values out, table); 0 means success.
LOGP_SIGNATURE = types.int64(
    types.uint64,
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.voidptr,
)
EXPAND_SIGNATURE = types.int64(
    types.uint64,
    types.uint64,
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.voidptr,
)


class NutpieVersionError(RuntimeError):
    """The installed nutpie is not the version this code drives."""


@cache
def nutpie_module():
    """nutpie, once its version is checked against ``NUTPIE_VERSION``."""
    import nutpie

    if nutpie.__version__ != NUTPIE_VERSION:
        raise NutpieVersionError(
            f"nutpie {nutpie.__version__} is installed, but Channel Trials drives nutpie "
            f"{NUTPIE_VERSION} (it uses that version's internals); install the pinned "
            "requirements: pip install -r requirements.txt -c constraints.txt"
        )
    return nutpie


def sample(model, **settings):
    """``nutpie.sample`` on a model from ``callback_model`` or ``compile_pymc_model``."""
    return nutpie_module().sample(model, **settings)


def compile_pymc_model(model):
    """A PyMC model compiled by nutpie's numba backend (the reference engine)."""
    return nutpie_module().compile_pymc_model(model)


def draws_done(sampler) -> int:
    """Draws stored so far over all chains (warm-up included) of a non-blocking
    ``sample``, from nutpie's raw trace.

    The raw Arrow snapshot costs milliseconds; ``sampler.inspect()`` would rebuild an
    ArviZ object of the whole trace on every poll and slow the sampler down threefold.
    """
    try:
        draws, _ = sampler._sampler.inspect().get_arrow_trace()
        return sum(batch.num_rows for batch in draws)
    except Exception:  # progress is a nicety; never let it break a fit
        return 0


@intrinsic
def _pointer(typingctx, address):
    """The integer ``address`` as a void pointer."""
    sig = types.voidptr(address)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return sig, codegen


@numba.njit(cache=True)
def table_array(table, i, dtype):
    """The ``i``-th argument of a callback's table, an array viewed in place."""
    return numba.carray(_pointer(table[2 * i]), (table[2 * i + 1],), dtype=dtype)


@numba.njit(cache=True)
def table_number(table, i):
    """The ``i``-th argument of a callback's table, a whole number."""
    return np.int64(table[2 * i])


@numba.njit(cache=True)
def status(value, grad, logp_ptr):
    """Store the log density for nutpie and say whether it is usable: 0 yes, 3 a
    non-finite gradient, 4 a non-finite density (nutpie treats both as a divergence)."""
    numba.carray(logp_ptr, (1,))[0] = value
    for j in range(grad.shape[0]):
        if not np.isfinite(grad[j]):
            return 3
    return 0 if np.isfinite(value) else 4


def pack_table(arguments: NamedTuple) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The table the callbacks read (``table_array``, ``table_number``) for
    ``arguments`` in their declared order, and the arrays it points into."""
    table = np.zeros(2 * len(arguments), dtype=np.uint64)
    arrays = {}
    for i, (name, value) in enumerate(zip(arguments._fields, arguments, strict=True)):
        if isinstance(value, np.ndarray):
            array = arrays[name] = np.ascontiguousarray(value)
            table[2 * i] = array.ctypes.data if array.size else 0
            table[2 * i + 1] = array.size
        else:
            table[2 * i] = int(value)
    return table, arrays


def callback_model(
    logp,
    expand,
    arguments: NamedTuple,
    *,
    start: np.ndarray,
    variables: Sequence[tuple[str, tuple[int, ...], tuple[str, ...]]],
    coords: dict[str, Any],
):
    """nutpie's container for a model given as two numba ``cfunc``s.

    ``arguments`` (a NamedTuple of arrays and whole numbers) reach the callbacks as a
    table (``pack_table``); ``variables`` lists what ``expand`` writes, as (name, shape,
    dims). Chains start at ``start`` plus U(-0.5, 0.5) jitter drawn from their seed.
    """
    import pandas as pd

    nutpie_module()
    from nutpie.compile_pymc import CompiledPyMCModel

    table, arrays = pack_table(arguments)

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
