"""Fitting the funnel model with nutpie's NUTS.

Two engines evaluate the model's log density (``SamplerSettings.engine``):

* ``"numba"`` (default): the density written out by hand (``inference.funnel.kernel``),
  called by nutpie through C callbacks (``inference.funnel.sampler``). It is compiled once per
  machine and kept on disk, takes trials of any shape, and costs about a third of the
  generated code per gradient: a fresh app process fits in about a second after loading it.
* ``"pymc"``: the PyMC model (``inference.funnel.model``) compiled by nutpie's numba backend,
  10-20 s per trial shape; compiled models are kept per (spec structure, arms, channels,
  revenue or not) for the life of the process, and new days reach them through
  ``with_data``. The reference the hand-written density is tested against.

Diagnostics gate every result: R-hat <= 1.01, bulk and tail ESS >= 400 and no divergence
on every reported quantity, else the posterior is marked unreliable with the reasons.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from inference.funnel.data import FunnelData
from inference.funnel.derived import stage_posterior
from inference.funnel.spec import ModelSpec, SamplerSettings
from inference.summary import Diagnostics, Posterior

__all__ = ["FitError", "Progress", "clear_compiled_models", "compiled_model_count", "fit_mcmc"]

R_HAT_MAX = 1.01
ESS_MIN = 400
EBFMI_MIN = 0.3
CACHE_SIZE = 16
RETRY_TARGET_ACCEPT = 0.98

Progress = Callable[[float, str], None]


class FitError(RuntimeError):
    """The sampler could not fit the model; the message says why in plain words."""


_compiled: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()
# One compile per key at a time; different keys compile side by side.
_key_locks: dict[tuple, threading.Lock] = {}


def compiled_model_count() -> int:
    return len(_compiled)


def clear_compiled_models() -> None:
    with _lock:
        _compiled.clear()
        _key_locks.clear()


def _cache_key(data: FunnelData, spec: ModelSpec) -> tuple:
    from inference.funnel.levels import arm_level_centred, kappa_slots

    has_revenue = bool(data.has_revenue.any())
    return (
        spec.structure_key(),
        tuple(sorted(arm_level_centred(data, spec).items())),
        data.n_arms,
        data.n_channels,
        tuple(data.arm_channel.tolist()),
        has_revenue,
        tuple((kappa_slots(data) >= 0).ravel().tolist()),
    )


def _compiled_for(data: FunnelData, spec: ModelSpec, progress: Progress):
    if spec.sampler.engine == "numba":
        progress(0.0, "loading the sampler")
        from inference.funnel.sampler import sampler_model

        return sampler_model(data, spec)
    return _pymc_compiled_for(data, spec, progress)


def _pymc_compiled_for(data: FunnelData, spec: ModelSpec, progress: Progress):
    from inference import nutpie_adapter
    from inference.funnel.model import build_funnel_model, model_data

    key = _cache_key(data, spec)
    with _lock:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:
        with _lock:
            compiled = _compiled.get(key)
            if compiled is not None:
                _compiled.move_to_end(key)
        if compiled is None:
            progress(0.0, "compiling the model (once per trial shape)")
            compiled = nutpie_adapter.compile_pymc_model(build_funnel_model(data, spec))
            with _lock:
                _compiled[key] = compiled
                while len(_compiled) > CACHE_SIZE:
                    _compiled.popitem(last=False)
            return compiled
    return compiled.with_data(**model_data(data, spec))


def fit_mcmc(
    data: FunnelData,
    spec: ModelSpec | None = None,
    *,
    seed: int = 0,
    progress: Progress | None = None,
) -> Posterior:
    """Sample the funnel model's posterior; returns draws and diagnostics.

    ``progress(fraction, message)`` is called from this thread while compiling and
    sampling. Raises ``FitError`` with a plain message when sampling fails.
    """
    started = time.perf_counter()
    spec = spec or ModelSpec()
    progress = progress or (lambda fraction, message: None)
    if data.n_arms < 1 or len(data.arm) == 0:
        raise FitError("there is no data to fit yet")
    try:
        compiled = _compiled_for(data, spec, progress)
        settings = spec.sampler
        posterior = _run(compiled, data, spec, settings, seed, progress, started)
        if not posterior.diagnostics.reliable and settings.retry:
            # What one would do by hand: smaller steps and a longer run, judged afresh.
            first = "; ".join(posterior.diagnostics.reasons)
            settings = replace(
                settings,
                draws=2 * settings.draws,
                target_accept=max(settings.target_accept, RETRY_TARGET_ACCEPT),
            )
            progress(0.0, f"sampling again with smaller steps ({first})")
            posterior = _run(compiled, data, spec, settings, seed + 1, progress, started)
            note = (
                f"sampled twice: the first run failed a check ({first}); the second used "
                f"{settings.draws} draws per chain and target acceptance "
                f"{settings.target_accept}"
            )
            posterior = replace(posterior, notes=(*posterior.notes, note))
    except FitError:
        raise
    except Exception as e:  # the sampler's own errors carry Rust backtraces
        raise FitError(f"the sampler failed ({type(e).__name__}: {_first_line(e)})") from e
    return replace(posterior, seed=seed, seconds=time.perf_counter() - started)


def _run(compiled, data, spec, settings, seed, progress, started) -> Posterior:
    trace = _sample(compiled, settings, seed, progress)
    progress(1.0, "summarising")
    stack = lambda name: trace.posterior[name].values.reshape(-1, data.n_arms)  # noqa: E731
    posterior = stage_posterior(
        "mcmc",
        data,
        spec,
        stack("ctr"),
        stack("cvr"),
        stack("revenue_per_conversion"),
        seed=seed,
        started=started,
    )
    diagnostics = _diagnostics(trace, posterior.draws, data.n_arms, posterior.undefined)
    runs = ((trace.posterior.sizes["chain"], trace.posterior.sizes["draw"]),)
    return replace(posterior, diagnostics=diagnostics, runs=runs)


def _sample(compiled, s: SamplerSettings, seed: int, progress: Progress):
    from inference import nutpie_adapter

    sampler = nutpie_adapter.sample(
        compiled,
        draws=s.draws,
        tune=s.tune,
        chains=s.chains,
        cores=s.cores,
        seed=seed,
        target_accept=s.target_accept,
        progress_bar=False,
        blocking=False,
    )
    total = s.chains * (s.draws + s.tune)
    while True:
        try:
            # nutpie's wait raises TimeoutError while chains are still running.
            return sampler.wait(timeout=0.2)
        except TimeoutError:
            progress(min(0.99, nutpie_adapter.draws_done(sampler) / total), "sampling")


def _diagnostics(trace, draws, n_arms: int, undefined) -> Diagnostics:
    from inference.diagnostics import convergence
    from inference.diagnostics import ebfmi as energy_bfmi

    chains = trace.posterior.sizes["chain"]
    # Each metric is judged on the arms where it is defined.
    defined = []
    for metric, values in draws.items():
        keep = [a for a in range(n_arms) if a not in undefined.get(metric, {})]
        if keep:
            defined.append(values[:, keep].reshape(chains, -1, len(keep)).transpose(2, 0, 1))
    r_hats, bulk, tail = convergence(np.concatenate(defined))
    r_hat, ess_bulk, ess_tail = np.nanmax(r_hats), np.nanmin(bulk), np.nanmin(tail)
    divergences = int(trace.sample_stats["diverging"].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        ebfmi = float(np.min(energy_bfmi(trace.sample_stats["energy"].values)))
    reasons = []
    if not r_hat <= R_HAT_MAX:
        reasons.append(f"R-hat {r_hat:.3f} is above {R_HAT_MAX} (chains disagree)")
    if not ess_bulk >= ESS_MIN:
        reasons.append(f"bulk ESS {ess_bulk:.0f} is below {ESS_MIN}")
    if not ess_tail >= ESS_MIN:
        reasons.append(f"tail ESS {ess_tail:.0f} is below {ESS_MIN}")
    if divergences:
        reasons.append(f"{divergences} divergent transitions")
    if np.isfinite(ebfmi) and ebfmi < EBFMI_MIN:
        reasons.append(f"E-BFMI {ebfmi:.2f} is below {EBFMI_MIN} (poor exploration)")
    return Diagnostics(
        r_hat_max=r_hat,
        ess_bulk_min=ess_bulk,
        ess_tail_min=ess_tail,
        divergences=divergences,
        ebfmi_min=ebfmi,
        reliable=not reasons,
        reasons=tuple(reasons),
    )


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else "no message"
