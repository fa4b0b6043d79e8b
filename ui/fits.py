"""Posteriors for the pages, cached per data digest and model settings.

The exact (conjugate) posterior answers in milliseconds and is shown at once; the MCMC fit
replaces it when done. Both are cached on the trial's data digest and the model settings,
so a revisit is instant and new data is a new entry. Streamlit holds one compute lock per
cache key, so two sessions opening the same trial wait for one fit instead of running two.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from inference.fit import FitError
from inference.spec import ModelSpec
from trials.analysis import (
    DecisionInputs,
    analyse,
    decide_for,
    decision_inputs,
    full_analysis,
    funnel_data,
    response_curves,
)
from trials.decisions import TrialDecision
from trials.domain import Trial, TrialSpec
from ui.session import store

__all__ = [
    "FitOutcome",
    "analysis_for",
    "clear_fits",
    "curves_for",
    "data_digest",
    "decision_for",
    "exact_fit",
    "inputs_for",
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
def exact_fit(trial_id: int, digest: str, seed: int = 0) -> FitOutcome:
    trials = store()
    trial = trials.get_trial(trial_id)
    return FitOutcome(analyse(trials, trial, method="exact", spec=ModelSpec(), seed=seed))


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


def mcmc_fit(
    trial_id: int,
    digest: str,
    seed: int = 0,
    _progress: Callable[[float, str], None] | None = None,
) -> FitOutcome:
    """The full model's posterior for the trial's data ``digest`` (fitted once)."""

    def compute() -> FitOutcome:
        trials = store()
        trial = trials.get_trial(trial_id)
        try:
            posterior = analyse(
                trials, trial, method="mcmc", spec=ModelSpec(), seed=seed, progress=_progress
            )
        except FitError as e:
            return FitOutcome(None, str(e))
        return FitOutcome(posterior)

    return _fits().get((trial_id, digest, seed, ModelSpec()), compute)


@st.cache_data(max_entries=64, show_spinner=False)
def inputs_for(trial_id: int, digest: str, spec: TrialSpec) -> DecisionInputs:
    """Totals, daily rows and the days-to-decision simulation for the data ``digest`` and
    the trial's settings (its rule decides the simulation): once, not on every rerun."""
    trials = store()
    return decision_inputs(trials, trials.get_trial(trial_id))


def _inputs(trial: Trial, digest: str) -> DecisionInputs:
    return inputs_for(trial.id, digest, trial.spec)


def decision_for(
    trial: Trial,
    posterior,
    *,
    budget: float | None = None,
    low: float = 0.0,
    high: float | None = None,
    risk: float = 0.5,
) -> TrialDecision:
    inputs = _inputs(trial, posterior.data_digest)
    return decide_for(
        store(), trial, posterior, budget=budget, low=low, high=high, risk=risk, inputs=inputs
    )


def analysis_for(trial: Trial, posterior) -> dict:
    """What ``analyze --json`` would print, for the posterior on screen (reports, log)."""
    digest = posterior.data_digest
    return full_analysis(
        store(),
        trial,
        method=posterior.method,
        spec=posterior.spec,
        seed=posterior.seed or 0,
        posterior=posterior,
        inputs=_inputs(trial, digest),
        curves=curves_for(trial.id, digest) if posterior.method == "mcmc" else None,
    )


@st.cache_data(max_entries=32, show_spinner=False)
def curves_for(trial_id: int, digest: str) -> dict:
    trials = store()
    return response_curves(trials, trials.get_trial(trial_id))
