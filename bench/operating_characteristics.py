"""Operating characteristics of the funnel model by trial shape, with Monte Carlo errors.

    python bench/operating_characteristics.py            # full counts (about 40 minutes on 2 cores)
    python bench/operating_characteristics.py --quick    # small counts (a couple of minutes)

For each shape (``tests/inference/operating.py``: the demo "WeChat vs Weibo launch" 2x1,
one channel of 3 creatives, 4 channels of 5 arms) and model (the default partial pooling,
``pooling="none"``, the independent per-arm reference of ``tests/inference/reference.py``,
raw totals revenue / spend), it simulates trials with known truth and prints:

* **A/A false scale**: share of trials with identical arms where the default rule, looked
  at once at the planned end, says ``scale`` (break-even 1.0, below every arm's ROAS).
* **coverage**: share of arms whose 94 % ROAS interval covers the true ROAS (trials with
  differing arms; A/A trials in the next column).
* **names best**: share of trials whose leader (highest P(best) ROAS; highest revenue /
  spend for raw totals) is the truly best arm.
* **bias**: median over arms and trials of posterior mean / true ROAS - 1.
* **seconds**: the model's total time over the shape's trials.

Each figure is followed by its Monte Carlo error (binomial for shares, bootstrap over
arms for the median). The 4x5 shape samples 500 draws per chain after 300 warm-up steps
without retry, to keep the run to minutes: its fits often miss the app's ESS gate of 400,
so the rule treats them as unreliable and cannot scale (its arms also have fewer than the
rule's 25 conversions, so they could not anyway).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inference.funnel.spec import SamplerSettings
from tests.inference.operating import MODELS, SHAPES, evaluate, paired_difference, summary

FULL = {"demo 2x1": 150, "1x3": 150, "4x5": 60}
QUICK = {"demo 2x1": 8, "1x3": 8, "4x5": 3}
SAMPLERS = {"4x5": SamplerSettings(draws=500, tune=300, retry=False)}


def fmt(value: tuple[float, float], signed: bool = False) -> str:
    v, e = value
    if v != v:  # NaN
        return "—".center(15)
    return f"{v:+.3f} ± {e:.3f}" if signed else f"{v:.3f} ± {e:.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--shapes", nargs="*", default=list(SHAPES), choices=list(SHAPES))
    args = parser.parse_args(argv)
    counts = QUICK if args.quick else FULL
    header = (
        f"{'shape':9s} {'model':9s} {'A/A false scale':>15s} {'coverage 94%':>15s} "
        f"{'A/A coverage':>15s} {'names best':>15s} {'ROAS bias':>15s} {'seconds':>8s}"
    )
    lines = []
    started = time.perf_counter()
    for name in args.shapes:
        shape, n = SHAPES[name], counts[name]
        sampler = SAMPLERS.get(name)
        print(f"{name}: {n} trials with differing arms, {n} A/A ...", file=sys.stderr)
        diff = evaluate(shape, n, seed=args.seed, sampler=sampler)
        aa = evaluate(shape, n, seed=args.seed + 1, aa=True, sampler=sampler)
        for model in MODELS:
            s, s_aa = summary(diff[model]), summary(aa[model])
            seconds = diff[model].seconds + aa[model].seconds
            lines.append(
                f"{name:9s} {model:9s} {fmt(s_aa['scaled']):>15s} {fmt(s['coverage']):>15s} "
                f"{fmt(s_aa['coverage']):>15s} {fmt(s['named']):>15s} "
                f"{fmt(s['bias'], signed=True):>15s} {seconds:8.1f}"
            )
        unreliable = {m: summary(diff[m])["unreliable"][0] for m in ("default", "none")}
        d, e = paired_difference(diff["default"].named, diff["none"].named)
        lines.append(
            f"{'':9s} names best, default - none (same trials): {d:+.3f} ± {e:.3f}; "
            f"unreliable fits: default {unreliable['default']:.1%}, none {unreliable['none']:.1%}"
        )
    print(header)
    print("-" * len(header))
    for line in lines:
        print(line)
    trials = sum(counts[s] for s in args.shapes) * 2
    print(f"\n{trials} trials in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
