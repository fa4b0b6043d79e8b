"""The shared fit cache: one compute per key, however many sessions ask at once."""

import threading
import time

from ui.fits import FitOutcome, _FitCache


def test_two_sessions_asking_for_one_fit_compute_it_once():
    cache = _FitCache()
    calls = []

    def compute():
        calls.append(threading.get_ident())
        time.sleep(0.2)
        return FitOutcome(posterior="fitted")

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(("trial", 1), compute)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert [r.posterior for r in results] == ["fitted"] * 4
    assert cache.get(("trial", 1), lambda: FitOutcome(None, "not again")).posterior == "fitted"


def test_new_data_is_a_new_fit_and_old_ones_are_dropped_past_the_size():
    cache = _FitCache(size=2)
    for digest in ("a", "b", "c"):
        cache.get((1, digest), lambda d=digest: FitOutcome(posterior=d))
    assert cache.get((1, "a"), lambda: FitOutcome(posterior="refit")).posterior == "refit"
    assert cache.get((1, "c"), lambda: FitOutcome(posterior="x")).posterior == "c"
