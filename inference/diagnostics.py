"""Convergence diagnostics for many quantities at once: rank R-hat, bulk and tail ESS.

These are the rank-normalised diagnostics of Vehtari, Gelman, Simpson, Carpenter and
Buerkner (2021), "Rank-normalization, folding, and localization: an improved R-hat for
assessing convergence of MCMC", computed exactly as ArviZ computes them (the tests
check agreement), but vectorised over quantities: ArviZ loops over every arm and
metric in Python, which cost more than the sampling itself on a 10-arm trial.

Every function takes draws shaped ``(quantity, chain, draw)`` and returns one value per
quantity. With x split into 2C half-chains of N draws each (means m_j, variances s_j^2):

    W = mean_j s_j^2,   B = N var_j(m_j),   R-hat = sqrt((N - 1)/N + B / (N W))

computed on rank-normalised draws z = Phi^-1((rank - 3/8) / (S + 1/4)) and on the folded
draws |x - median|, keeping the larger. ESS = C N / tau with the integrated
autocorrelation time tau = -1 + 2 sum_t rho_t, truncated by Geyer's initial positive
sequence and made monotone. Bulk ESS uses z; tail ESS is the smaller ESS of the
indicators x <= q_0.05 and x <= q_0.95.
"""

from __future__ import annotations

import numpy as np
from scipy import fft, special, stats

__all__ = ["convergence", "ebfmi", "ess_bulk", "ess_mean", "ess_tail", "rank_rhat"]


def convergence(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rank R-hat, bulk ESS, tail ESS) per quantity, rank-normalising only once."""
    split = _split_chains(draws)
    z = _z_scale(split)
    return _rank_rhat(split, z), _ess(z), ess_tail(draws)


def rank_rhat(draws: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat (the larger of the bulk and folded versions)."""
    split = _split_chains(draws)
    return _rank_rhat(split, _z_scale(split))


def ess_bulk(draws: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: ESS of the rank-normalised split chains."""
    return _ess(_z_scale(_split_chains(draws)))


def ess_mean(draws: np.ndarray) -> np.ndarray:
    """Effective sample size of the mean (ArviZ's ``ess(method="mean")``): ESS of the
    split chains of the draws themselves, not of their ranks. The Monte Carlo error of a
    posterior mean (a probability, when the draws are indicators) is sd / sqrt(ESS)."""
    return _ess(_split_chains(draws))


def _rank_rhat(split: np.ndarray, z: np.ndarray) -> np.ndarray:
    if split.shape[1] < 4 or split.shape[2] < 2:  # one chain, or fewer than 4 draws
        return np.full(split.shape[0], np.nan)
    folded = np.abs(split - np.median(split, axis=(1, 2), keepdims=True))
    return np.fmax(_rhat(z), _rhat(_z_scale(folded)))


def ess_tail(draws: np.ndarray) -> np.ndarray:
    """Tail effective sample size: the smaller ESS of the 5% and 95% quantile indicators."""
    flat = draws.reshape(draws.shape[0], -1)
    low, high = np.quantile(flat, [0.05, 0.95], axis=1)
    split = _split_chains(draws)
    below_low = (split <= low[:, None, None]).astype(np.float64)
    below_high = (split <= high[:, None, None]).astype(np.float64)
    return np.fmin(_ess(below_low), _ess(below_high))


def ebfmi(energy: np.ndarray) -> np.ndarray:
    """Estimated Bayesian fraction of missing information per chain, from the sampler's
    Hamiltonian energy shaped (chain, draw): E-BFMI = mean((E_t - E_{t-1})^2) / var(E)
    (sample variance, n - 1).

    Below about 0.3 the momentum resampling cannot move the chain across the energy
    levels the posterior needs (Betancourt 2016); as ArviZ's ``bfmi``, which compiles a
    numba function in every new process.
    """
    energy = np.asarray(energy, dtype=np.float64)
    return np.square(np.diff(energy, axis=1)).mean(axis=1) / np.var(energy, axis=1, ddof=1)


def _split_chains(draws: np.ndarray) -> np.ndarray:
    draws = np.asarray(draws, dtype=np.float64)
    half = draws.shape[2] // 2
    return np.concatenate([draws[:, :, :half], draws[:, :, -half:]], axis=1)


def _z_scale(x: np.ndarray) -> np.ndarray:
    flat = x.reshape(x.shape[0], -1)
    rank = stats.rankdata(flat, method="average", axis=1)
    z = special.ndtri((rank - 0.375) / (flat.shape[1] + 0.25))
    return z.reshape(x.shape)


def _rhat(x: np.ndarray) -> np.ndarray:
    n = x.shape[2]
    within = x.var(axis=2, ddof=1).mean(axis=1)
    between = n * x.mean(axis=2).var(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((between / within + n - 1) / n)


def _autocov(x: np.ndarray) -> np.ndarray:
    n = x.shape[-1]
    m = fft.next_fast_len(2 * n)
    centred = x - x.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=m, axis=-1)
    return np.fft.irfft(spectrum * np.conjugate(spectrum), n=m, axis=-1)[..., :n] / n


def _ess(x: np.ndarray) -> np.ndarray:
    """ESS per quantity of ``x`` shaped (quantity, chain, draw)."""
    q, chains, n = x.shape
    if n < 2:  # fewer than 4 draws per chain before splitting: nothing to estimate
        return np.full(q, np.nan)
    acov = _autocov(x)
    mean_var = acov[:, :, 0].mean(axis=1) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if chains > 1:
        var_plus = var_plus + x.mean(axis=2).var(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var[:, None] - acov.mean(axis=1)) / var_plus[:, None]
    rho[:, 0] = 1.0
    n_pairs = (n - 1) // 2  # pairs (0,1), (2,3), ... that Geyer's sequence may reach
    pairs = rho[:, 0 : 2 * n_pairs : 2] + rho[:, 1 : 2 * n_pairs : 2]
    # The first pair after 0 whose sum is not positive ends the sequence.
    stop = np.where(pairs[:, 1:] <= 0, np.arange(1, n_pairs)[None, :], n_pairs - 1).min(
        axis=1, initial=n_pairs - 1
    )
    stop = np.where(pairs[:, 0] > 0, stop, 0)
    monotone = np.minimum.accumulate(pairs, axis=1)
    kept = np.arange(n_pairs)[None, :] < stop[:, None]
    last_even = rho[np.arange(q), 2 * stop]
    # The even half of the stopping pair counts when positive; a sequence that ran to
    # the end without stopping keeps its last pair's even half whatever its sign.
    ran_out = pairs[np.arange(q), stop] > 0
    last_even = np.where(ran_out, last_even, np.maximum(last_even, 0.0))
    tau = -1.0 + 2.0 * np.where(kept, monotone, 0.0).sum(axis=1) + last_even
    size = chains * n
    tau = np.maximum(tau, 1 / np.log10(size))
    ess = size / tau
    constant = np.ptp(x.reshape(q, -1), axis=1) < np.finfo(float).resolution
    ess = np.where(constant, float(size), ess)
    return np.where(np.isnan(rho).any(axis=1) & ~constant, np.nan, ess)
