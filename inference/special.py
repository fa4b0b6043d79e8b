"""Special functions the hand-written densities share, as inlinable numba functions.

``lgamma_digamma`` gives log Gamma and digamma from one logarithm and one Stirling series;
``lgamma_ratio`` gives lnG(x + m) - lnG(x) (and the digamma difference) without losing
precision when x is huge; the rest are the logistic function and a normal log kernel.
Tested against scipy in ``tests/inference/test_special.py``.
"""

from __future__ import annotations

import math

import numba

__all__ = [
    "inlined",
    "lgamma_digamma",
    "lgamma_ratio",
    "log_sigmoid",
    "normal_kernel",
    "sigmoid",
]

_HALF_LOG_2PI = 0.9189385332046727
# Inlined where they are called: the row loops call them ~20,000 times per gradient.
inlined = numba.njit(
    cache=True,
    nogil=True,
    error_model="numpy",
    fastmath={"contract", "arcp", "reassoc", "nsz"},
    inline="always",
)


@inlined
def lgamma_digamma(x):
    """log Gamma(x) and digamma(x) for x > 0, sharing one log and one asymptotic series.

    Below 10 the recurrences Gamma(x + 1) = x Gamma(x) and psi(x + 1) = psi(x) + 1 / x
    shift the argument up; from 10 the Stirling series (to 1/x^9 and 1/x^10) is accurate
    to about 1e-14.
    """
    shift_lg, shift_psi = 0.0, 0.0
    if x < 10.0:
        product = 1.0
        while x < 10.0:
            product *= x
            shift_psi += 1.0 / x
            x += 1.0
        shift_lg = math.log(product)
    log_x = math.log(x)
    r = 1.0 / x
    r2 = r * r
    lg = (
        (x - 0.5) * log_x
        - x
        + _HALF_LOG_2PI
        + r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 / 1188))))
    )
    psi = (
        log_x
        - 0.5 * r
        - r2 * (1 / 12 - r2 * (1 / 120 - r2 * (1 / 252 - r2 * (1 / 240 - r2 / 132))))
    )
    return lg - shift_lg, psi - shift_psi


@inlined
def log_sigmoid(y):
    return -math.log1p(math.exp(-y)) if y >= 0 else y - math.log1p(math.exp(y))


@inlined
def sigmoid(y):
    if y >= 0:
        return 1.0 / (1.0 + math.exp(-y))
    e = math.exp(y)
    return e / (1.0 + e)


@inlined
def normal_kernel(v, mean, sd):
    z = (v - mean) / sd
    return -0.5 * z * z


@inlined
def _stirling_tails(r):
    """The Stirling series' tails at x = 1 / r: S with lnG(x) = (x - 1/2) ln x - x +
    ln(2 pi) / 2 + S, and T with psi(x) = ln x - 1 / (2 x) - T."""
    r2 = r * r
    s = r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 / 1188))))
    t = r2 * (1 / 12 - r2 * (1 / 120 - r2 * (1 / 252 - r2 * (1 / 240 - r2 / 132))))
    return s, t


@inlined
def lgamma_ratio(x, m, lg_x, dg_x):
    """lnG(x + m) - lnG(x) and psi(x + m) - psi(x), for m >= 0.

    Usually lnG(x + m) - lnG(x), with lnG(x), psi(x) given as ``lg_x``, ``dg_x``
    (computed once per arm). When x is huge (a concentration drifting towards the
    binomial limit) that difference of two large numbers would leave only rounding
    noise, so it is formed from log1p(m / x) and the Stirling tails instead.
    """
    if x < 1e5:
        lg, dg = lgamma_digamma(x + m)
        return lg - lg_x, dg - dg_x
    y = x + m
    l1p = math.log1p(m / x)
    s_x, t_x = _stirling_tails(1.0 / x)
    s_y, t_y = _stirling_tails(1.0 / y)
    value = (x - 0.5) * l1p + m * (math.log(y) - 1.0) + s_y - s_x
    return value, l1p - 0.5 / y + 0.5 / x - t_y + t_x
