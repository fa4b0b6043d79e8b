"""Posteriors and the one analysis for the pages, cached per data digest and settings.

The exact (conjugate) posterior answers in a fraction of a second and is shown at once as a
labelled preview (never a verdict); the MCMC fit replaces it when done. Both are cached on
the trial's data digest and the model settings, so a revisit is instant and new data is a
new entry. Streamlit holds one compute lock per cache key, so two sessions opening the same
trial wait for one fit instead of running two.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from inference.funnel.fit import FitError
from inference.funnel.spec import ModelSpec
from trials.analysis.priors import trial_model_spec
from trials.analysis.result import TrialAnalysis, analyse, analyze_trial, funnel_data
from trials.domain import Trial
from ui.session import store

__all__ = [
    "FitOutcome",
    "analysis_for",
    "cached_analyses",
    "clear_fits",
    "data_digest",
    "exact_fit",
    "fit_with_progress",
    "mcmc_fit",
]


@dataclass(frozen=True)
class FitOutcome:
    posterior: object | None  # inference.summary.Posterior
    error: str | None = None


def data_digest(trial: Trial) -> str:
    """What the models would read for this trial now (changes with any new row)."""
    return funnel_data(store(), trial).digest()


@st.cache_data(max_entries=128, show_spinner=False)
def exact_fit(trial_id: int, digest: str, seed: int = 0, round_number: int = 0) -> FitOutcome:
    """The exact preview of the trial (of its round ``round_number``; 0: the current)."""
    trials = store()
    trial = trials.get_trial(trial_id).in_round(round_number or None)
    spec = trial_model_spec(trials, trial, ModelSpec()).spec
    return FitOutcome(analyse(trials, trial, method="exact", spec=spec, seed=seed))


class _FitCache:
    """Finished MCMC fits shared by every session, one compute at a time per key.

    Not ``st.cache_data``: the fit reports progress to a bar drawn outside it, which
    cache_data would try to record and replay. Thread-safe: sessions run in threads.
    """

    def __init__(self, size: int = 32):
        self._size = size
        self._done: OrderedDict[tuple, FitOutcome] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}

    def done(self) -> list[tuple[tuple, object]]:
        """The finished entries, oldest first (nothing is computed)."""
        with self._lock:
            return list(self._done.items())

    def get(self, key: tuple, compute: Callable[[], FitOutcome]) -> FitOutcome:
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # a second session asking for the same fit waits for the first
            with self._lock:
                if key in self._done:
                    return self._done[key]
            outcome = compute()
            with self._lock:
                self._done[key] = outcome
                while len(self._done) > self._size:
                    self._done.popitem(last=False)
                self._key_locks.pop(key, None)
            return outcome


@st.cache_resource(show_spinner=False)
def _fits() -> _FitCache:
    return _FitCache()


def clear_fits() -> None:
    _fits.clear()
    _analyses.clear()


def mcmc_fit(
    trial_id: int,
    digest: str,
    seed: int = 0,
    _progress: Callable[[float, str], None] | None = None,
    round_number: int = 0,
) -> FitOutcome:
    """The full model's posterior for the trial's data ``digest`` (fitted once); for a
    trial in rounds, of round ``round_number`` (0: the current one)."""

    trials = store()
    trial = trials.get_trial(trial_id).in_round(round_number or None)
    # The trial's model settings: the defaults, or priors learned from past trials when
    # the trial opted in (``trials.analysis.priors``); part of the cache key.
    spec = trial_model_spec(trials, trial, ModelSpec()).spec

    def compute() -> FitOutcome:
        try:
            posterior = analyse(
                trials, trial, method="mcmc", spec=spec, seed=seed, progress=_progress
            )
        except FitError as e:
            return FitOutcome(None, str(e))
        return FitOutcome(posterior)

    return _fits().get((trial_id, digest, seed, spec, trial.round_number), compute)


def fit_with_progress(trial: Trial, text: str, digest: str | None = None) -> FitOutcome:
    """The full model's fit (``mcmc_fit``) under a progress bar that goes when it is done."""
    bar = st.progress(0.0, text=text)
    outcome = mcmc_fit(
        trial.id,
        digest or data_digest(trial),
        _progress=lambda f, m: bar.progress(f, text=m),
        round_number=trial.round_number if trial.rounds else 0,
    )
    bar.empty()
    return outcome


@st.cache_resource(show_spinner=False)
def _analyses() -> _FitCache:
    return _FitCache(size=64)


def analysis_for(trial: Trial, posterior) -> TrialAnalysis:
    """The trial's one analysis on ``posterior`` (verdict, recommendations, progress,
    curves, source), computed once per data digest, model settings, trial settings (the
    rule) and rule version, and shared by every page, session, report and the log."""
    key = (
        trial.id,
        posterior.data_digest,
        posterior.method,
        posterior.spec,
        trial.spec,
        trial.rule_version,
        posterior.seed or 0,
        trial.round_number,
    )

    def compute() -> TrialAnalysis:
        return analyze_trial(
            store(),
            trial,
            method=posterior.method,
            spec=posterior.spec,
            seed=posterior.seed or 0,
            posterior=posterior,
        )

    return _analyses().get(key, compute)


def cached_analyses(trials: list[Trial]) -> dict[int, TrialAnalysis]:
    """The full-model analyses some page of this server has already made for ``trials``
    (their current settings and rule), newest last; nothing is fitted. A reader checks the
    data digest against the trial's data now."""
    wanted = {t.id: t for t in trials}
    out: dict[int, TrialAnalysis] = {}
    for key, analysis in _analyses().done():
        trial = wanted.get(key[0])
        if (
            trial is not None
            and key[2] == "mcmc"
            and key[4] == trial.spec
            and key[5] == trial.rule_version
        ):
            out[trial.id] = analysis
    return out
