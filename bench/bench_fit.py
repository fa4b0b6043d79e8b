"""Time-to-posterior on this machine, printed as a table.

For 2, 10 and 100 arms x 30 days of simulated campaign data:
  * exact  - the conjugate path (milliseconds, no sampling);
  * cold   - a fresh process: imports, then the first MCMC fit (which loads the compiled
             kernel from numba's disk cache);
  * warm   - the next fits on new data (one more day) in the same process (median of 3);
  * ESS    - smallest bulk and tail ESS over every reported quantity (six per arm), and
             bulk ESS per warm second.
Then the one-off cost of compiling the kernel into an empty cache, the same fits with the
PyMC engine for comparison (``--pymc``), and agreement with gbstats and bayesian-testing
where they compute the same quantity.

Run: ``make bench`` (or ``.venv/bin/python bench/bench_fit.py [--arms 2 10] [--pymc]``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHAPES = {2: (1, 2), 10: (2, 5), 100: (10, 10)}  # arms -> (channels, arms per channel)


def simulated(arms: int, days: int, seed: int = 1):
    """A simulated trial's first ``days`` days (the same trial for any ``days`` <= 31)."""
    import numpy as np

    from inference import FunnelData
    from tests.inference.simulate import simulate_trial

    channels, per_channel = SHAPES[arms]
    full = simulate_trial(
        np.random.default_rng(seed), channels=channels, arms_per_channel=per_channel, days=31
    )[0]
    keep = full.day < days
    rows = [
        dict(
            arm=int(full.arm[i]),
            day=full.days[full.day[i]],
            impressions=int(full.impressions[i]),
            clicks=int(full.clicks[i]),
            conversions=int(full.conversions[i]),
            spend=float(full.spend[i]),
            revenue=float(full.revenue[i]),
        )
        for i in range(len(full.arm))
        if keep[i]
    ]
    return FunnelData.from_rows(
        list(zip([full.channels[c] for c in full.arm_channel], full.arms, strict=True)), rows
    )


def cold(arms: int, engine: str) -> dict:
    """Run in a fresh process: imports, then the first fit."""
    started = time.perf_counter()
    import nutpie  # noqa: F401

    from inference import ModelSpec
    from inference.funnel.fit import fit_mcmc

    imported = time.perf_counter()
    data = simulated(arms, 30)
    t0 = time.perf_counter()
    posterior = fit_mcmc(data, ModelSpec.from_dict({"sampler": {"engine": engine}}), seed=1)
    return {
        "imports": imported - started,
        "first_fit": time.perf_counter() - t0,
        "reliable": posterior.diagnostics.reliable,
        "reasons": list(posterior.diagnostics.reasons),
    }


def compile_kernel() -> float:
    """Seconds to compile the kernel when numba's cache is empty (once per machine)."""
    import tempfile

    with tempfile.TemporaryDirectory() as empty:
        script = "import time; t = time.perf_counter(); import inference.funnel.sampler; "
        script += "print(time.perf_counter() - t)"
        out = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
            env=os.environ | {"NUMBA_CACHE_DIR": empty},
        )
    return float(out.stdout.strip().splitlines()[-1])


def warm(arms: int, engine: str) -> dict:
    import statistics

    from inference import ModelSpec, exact_posterior
    from inference.funnel.fit import fit_mcmc

    spec = ModelSpec.from_dict({"sampler": {"engine": engine}})
    data = simulated(arms, 30)
    exact_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        exact_posterior(data, seed=0)
        exact_times.append(time.perf_counter() - t0)
    fit_mcmc(data, spec, seed=1)  # compile (pymc engine) or load the kernel
    newer = simulated(arms, 31)  # the same trial, one more day
    runs = []
    for seed in (2, 3, 4):
        t0 = time.perf_counter()
        posterior = fit_mcmc(newer, spec, seed=seed)
        runs.append((time.perf_counter() - t0, posterior.diagnostics))
    seconds = statistics.median(t for t, _ in runs)
    return {
        "exact_ms": 1000 * sorted(exact_times)[2],
        "warm": seconds,
        "ess_bulk_min": min(d.ess_bulk_min for _, d in runs),
        "ess_tail_min": min(d.ess_tail_min for _, d in runs),
        "ess_per_second": statistics.median(d.ess_bulk_min / t for t, d in runs),
        "reliable": sum(d.reliable for _, d in runs),
        "reasons": sorted({r for _, d in runs for r in d.reasons}),
    }


def _conversions(variants: dict[str, tuple[int, int]]):
    """One day of data per variant: (clicks, conversions), spend and revenue nominal."""
    from inference import FunnelData

    return FunnelData.from_rows(
        [("x", name) for name in variants],
        [
            dict(
                arm=i,
                day="2026-09-01",
                impressions=n,
                clicks=n,
                conversions=k,
                spend=1.0,
                revenue=float(k),
            )
            for i, (n, k) in enumerate(variants.values())
        ],
    )


def agreement() -> list[tuple[str, str, str, str]]:
    """Same quantity from our exact path, bayesian-testing and gbstats."""
    import numpy as np

    from inference import exact_posterior

    rows = []
    # bayesian-testing's published three-variant case, conversions of clicks.
    cases = {"A": (10, 3), "B": (10, 2), "C": (11, 2)}
    data = _conversions(cases)
    ours = exact_posterior(data, seed=0, n_draws=400_000).draws["cvr"]
    p_best = np.bincount(ours.argmax(axis=1), minlength=3) / ours.shape[0]
    try:
        from bayesian_testing.experiments import BinaryDataTest

        test = BinaryDataTest()
        for name, (n, k) in cases.items():
            test.add_variant_data_agg(name, totals=n, positives=k, a_prior=1, b_prior=1)
        theirs = {
            r["variant"]: r["prob_being_best"] for r in test.evaluate(sim_count=400_000, seed=1)
        }
        for i, name in enumerate(cases):
            rows.append(
                (
                    "P(best) CVR, Beta(1,1)",
                    name,
                    f"{p_best[i]:.4f}",
                    f"bayesian-testing {theirs[name]:.4f}",
                )
            )
    except ImportError:
        rows.append(("P(best)", "-", "-", "bayesian-testing not installed"))
    # Chance that B beats A on conversion rate, a larger sample (normal approximations agree).
    big = {"A": (4000, 120), "B": (4100, 150)}
    data = _conversions(big)
    draws = exact_posterior(data, seed=0, n_draws=400_000).draws["cvr"]
    ours_ctw = float((draws[:, 1] > draws[:, 0]).mean())
    try:
        from gbstats.bayesian.tests import EffectBayesianABTest
        from gbstats.models.statistics import ProportionStatistic

        result = EffectBayesianABTest(
            ProportionStatistic(sum=120, n=4000), ProportionStatistic(sum=150, n=4100)
        ).compute_result()
        rows.append(
            ("P(B beats A) CVR", "B vs A", f"{ours_ctw:.4f}", f"gbstats {result.chance_to_win:.4f}")
        )
    except ImportError:
        rows.append(("P(B beats A)", "-", "-", "gbstats not installed"))
    return rows


def table(arm_counts: list[int], engine: str) -> None:
    print(
        f"{'arms':>5} {'exact ms':>9} {'imports s':>10} {'cold s':>7} {'warm s':>7} "
        f"{'bulk ESS':>9} {'tail ESS':>9} {'ESS/s':>7}  reliable (warm of 3; cold)"
    )
    for arms in arm_counts:
        fresh = subprocess.run(
            [sys.executable, __file__, "--cold", str(arms), "--engine", engine],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        c = json.loads(fresh.stdout.strip().splitlines()[-1])
        w = warm(arms, engine)
        print(
            f"{arms:>5} {w['exact_ms']:>9.1f} {c['imports']:>10.1f} {c['first_fit']:>7.1f} "
            f"{w['warm']:>7.2f} {w['ess_bulk_min']:>9.0f} {w['ess_tail_min']:>9.0f} "
            f"{w['ess_per_second']:>7.0f}  {w['reliable']}/3 {'; '.join(w['reasons'])}; "
            f"{'yes' if c['reliable'] else 'no ' + '; '.join(c['reasons'])}",
            flush=True,
        )


def other_timings() -> list[tuple[str, float]]:
    """Figures the tests used to assert by the clock (tests check what, this measures how
    fast): the exact preview's ROAS comparison on 10 arms, a response curve's fit, a
    single-price 60-arm trial against the same trial with varied order values, and reading
    the largest workbook and text file an upload may be."""
    import numpy as np

    from inference.curve.fit import fit_saturation
    from inference.funnel.conjugate import exact_comparison
    from inference.funnel.fit import fit_mcmc
    from tests.inference.messy import Features, messy_trial, sixty_arms
    from tests.inference.simulate_curves import CurveTruth, simulate_ladder

    out = []
    data = simulated(10, 30)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        exact_comparison(data, metric="roas", control=0, break_even=2.0)
        times.append(time.perf_counter() - t0)
    out.append(("exact ROAS comparison, 10 arms (best of 3)", min(times)))
    near = CurveTruth(elasticity=0.5, average_roas=4.0, level=20.0)  # near break-even
    rng = np.random.default_rng(11)
    fit_saturation(simulate_ladder(rng, near)[0], 2.0, seed=1)  # loads the kernel
    times = []
    for days in (5, 9, 14):
        ladder = simulate_ladder(rng, near, days_per_level=days)[0]
        t0 = time.perf_counter()
        fit_saturation(ladder, 2.0, seed=days)
        times.append(time.perf_counter() - t0)
    out.append(("response curve fit, 3 levels (median of 3)", sorted(times)[1]))
    arms = sixty_arms(60)
    for name, features in (("varied order values", None), ("single price 49", 49.0)):
        trial = messy_trial(
            60, arms, days=30, **({"features": Features(single_price=features)} if features else {})
        )
        t0 = time.perf_counter()
        fit_mcmc(trial.data, seed=1)
        out.append((f"60 arms x 30 days, {name}", time.perf_counter() - t0))
    out.extend(upload_timings())
    return out


def upload_timings() -> list[tuple[str, float]]:
    """Reading an upload at the cell caps (``trials.ingest.limits``): a workbook of
    500,000 cells (50,000 rows × 10, text and numbers) and a CSV of 2,000,000."""
    import io

    import xlsxwriter

    from trials.ingest.tables import read_table

    rows, columns = 50_000, 10
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r in range(rows):
        sheet.write_row(r, 0, [f"2026-09-{r % 28 + 1:02d}", f"arm {r % 40}", *range(r, r + 8)])
    book.close()
    text = "".join(
        f"2026-09-{r % 28 + 1:02d},arm {r % 40},{r},{r},{r},{r},{r},{r},{r},{r}\n"
        for r in range(200_000)
    ).encode()
    out = []
    for what, data, name in (
        (f"XLSX upload, {rows * columns:,} cells", buffer.getvalue(), "w.xlsx"),
        ("CSV upload, 2,000,000 cells", text, "t.csv"),
    ):
        t0 = time.perf_counter()
        read_table(data, name)
        out.append((what, time.perf_counter() - t0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arms", type=int, nargs="*", default=[2, 10, 100])
    parser.add_argument("--pymc", action="store_true", help="also time the PyMC engine")
    parser.add_argument("--cold", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="numba", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold:
        print(json.dumps(cold(args.cold, args.engine)))
        return
    print(f"Channel Trials benchmark - {os.cpu_count()} cores, 30 days of data per arm")
    print("\nEngine numba (default): the hand-written density")
    table(args.arms, "numba")
    once = compile_kernel()
    print(f"\nCompiling the kernel into an empty cache (once per machine): {once:.1f} s")
    if args.pymc:
        print("\nEngine pymc: the PyMC model compiled by nutpie per trial shape")
        table(args.arms, "pymc")
    print("\nOther timings (seconds)")
    for what, seconds in other_timings():
        print(f"{what:<48} {seconds:>8.3f}")
    print()
    print(f"{'quantity':<24} {'arm':<7} {'ours':>8}  other")
    for quantity, arm, ours, other in agreement():
        print(f"{quantity:<24} {arm:<7} {ours:>8}  {other}")


if __name__ == "__main__":
    main()
