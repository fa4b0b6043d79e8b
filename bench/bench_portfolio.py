"""The portfolio's cost on a workspace of 50 trials x 5 arms x 30 days, printed as a table.

* imports: loading the numerics, once per process (not counted below);
* computation, cold: ``portfolio()`` with empty caches (the exact path's draws for every
  trial; with curves, the response curves of the arms recorded decisions chose, the first
  of which loads the curve's compiled kernel from disk);
* computation, warm: the same again (the draws and curves come from the cache; the trials'
  data are still read from the database, to see whether they changed);
* page load: the Portfolio page run by Streamlit's AppTest, first and second time.

Ten of the trials carry a recorded decision (scale one arm, keep testing another) and
ran at two daily spend levels, so their chosen arms get a response curve. Nothing here is
asserted: the figures vary by about +-30 % on a shared machine.

Run: ``make bench-portfolio`` (or ``.venv/bin/python bench/bench_portfolio.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHANNELS = ("WeChat", "Weibo", "Douyin", "Google Search", "Email", "Xiaohongshu", "TikTok")
CURRENCIES = ("CNY", "USD", "EUR")
USER = "bench"


def build(path: Path, trials: int, arms: int, days: int, decided: int, seed: int = 7):
    """A workspace of simulated trials in a new SQLite file; returns the store."""
    import numpy as np

    from trials.domain import ArmSpec, DailyResult, PrimaryMetric, TrialSpec
    from trials.domain.accounts import Role
    from trials.domain.verdicts import DecisionRecord
    from trials.storage.accounts import AccountRepository
    from trials.storage.engine import connect
    from trials.storage.schema import DEFAULT_WORKSPACE_ID
    from trials.storage.store import TrialStore

    engine = connect(f"sqlite:///{path}")
    AccountRepository(engine, actor=USER).add_user(
        USER, is_admin=True, first=True, workspace_role=(DEFAULT_WORKSPACE_ID, Role.ADMIN)
    )
    store = TrialStore(engine, actor=USER)
    rng = np.random.default_rng(seed)
    start = date(2026, 10, 1)
    for t in range(trials):
        channel = CHANNELS[t % len(CHANNELS)]
        specs = tuple(
            ArmSpec(
                channel if a < arms - 1 else CHANNELS[(t + 1) % len(CHANNELS)],
                f"Creative {a}",
                control=a == 0,
            )
            for a in range(arms)
        )
        trial = store.create_trial(
            TrialSpec(
                name=f"Trial {t:02d}",
                primary_metric=PrimaryMetric.ROAS,
                break_even_roas=2.0,
                currency=CURRENCIES[t % len(CURRENCIES)],
                start=start,
                end=start + timedelta(days=days - 1),
                budget=100_000.0,
                arms=specs,
            )
        )
        rows = []
        for arm in trial.arms:
            cvr = 0.03 * rng.lognormal(0, 0.2)
            for d in range(days):
                step = 1.6 if (t < decided and d >= days // 2) else 1.0
                spend = round(100 * step * rng.uniform(0.9, 1.1), 2)
                impressions = int(rng.poisson(spend * 40))
                clicks = int(rng.binomial(impressions, 0.02))
                conversions = int(rng.binomial(clicks, cvr))
                revenue = round(float(rng.gamma(2.5, 60 / 2.5, size=conversions).sum()), 2)
                rows.append(
                    DailyResult(
                        arm.id,
                        start + timedelta(days=d),
                        impressions,
                        clicks,
                        conversions,
                        spend,
                        revenue,
                    )
                )
        store.add_results(trial.id, rows, kind="manual")
        if t < decided:
            first, second = trial.arms[0], trial.arms[1]
            snapshot = {
                "method": "mcmc",
                "data_digest": "bench",
                "decision": {"verdict": "keep_testing"},
                "arms": [
                    {
                        "channel": a.spec.channel,
                        "creative": a.spec.creative,
                        "recommendation": "scale"
                        if a is first
                        else "keep_testing"
                        if a is second
                        else "stop",
                        "reason": "bench",
                    }
                    for a in trial.arms
                ],
            }
            store.record_decision(
                trial.id,
                DecisionRecord(scale=(first.name,), keep_testing=(second.name,), note="bench"),
                snapshot,
            )
    return store


def timed(fn, repeat: int = 1) -> float:
    best = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t0)
    return sorted(best)[len(best) // 2]


def page_loads(n: int = 2) -> list[float]:
    from streamlit.testing.v1 import AppTest

    from ui.sign_in import SIGNED_IN_KEY

    out = []
    for _ in range(n):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.session_state[SIGNED_IN_KEY] = USER
        t0 = time.perf_counter()
        at.run()
        at.switch_page("app_pages/portfolio.py").run()
        out.append(time.perf_counter() - t0)
        if at.exception:
            raise SystemExit(f"the page failed: {[e.value for e in at.exception]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--arms", type=int, default=5)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--decided", type=int, default=10, help="trials with a recorded decision")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-portfolio-"))
    path = folder / "trials.sqlite3"
    os.environ["TRIALS_DB"] = str(path)
    os.environ["TRIALS_DATA_DIR"] = str(folder)
    os.environ.pop("DATABASE_URL", None)
    t0 = time.perf_counter()
    store = build(path, args.trials, args.arms, args.days, args.decided)
    built = time.perf_counter() - t0

    t0 = time.perf_counter()
    import inference.funnel.conjugate  # noqa: F401  (the numerics, loaded once per process)
    from trials.analysis import portfolio as module
    from trials.domain.exchange import Rates

    imports = time.perf_counter() - t0

    print(
        f"Portfolio benchmark - {os.cpu_count()} cores; {args.trials} trials x {args.arms} arms "
        f"x {args.days} days ({args.trials * args.arms * args.days:,} rows, "
        f"{args.decided} trials with a recorded decision); built in {built:.1f} s"
    )
    print(f"\n{'what':<58} {'seconds':>8}")
    rows = [("imports (numpy, scipy, the exact path), once per process", imports)]
    for by in ("channel", "week"):
        module.clear_cache()
        module._CURVES.clear()
        cold = timed(lambda by=by: module.portfolio(store, by=by, curves=False))
        warm = timed(lambda by=by: module.portfolio(store, by=by, curves=False), repeat=3)
        rows += [
            (f"portfolio by {by}, no curves: cold", cold),
            (f"portfolio by {by}, no curves: warm (median of 3)", warm),
        ]
    module.clear_cache()
    rates = Rates.parse("CNY", ["USD=7.1", "EUR=7.7"])
    cold = timed(lambda: module.portfolio(store, rates=rates))
    warm = timed(lambda: module.portfolio(store, rates=rates), repeat=3)
    rows += [
        ("portfolio by channel, converted, with curves: cold", cold),
        ("portfolio by channel, converted, with curves: warm (median of 3)", warm),
    ]
    module.clear_cache()
    module._CURVES.clear()
    first, second = page_loads()
    rows += [
        ("Portfolio page (AppTest): first load", first),
        ("Portfolio page (AppTest): again", second),
    ]
    for what, seconds in rows:
        print(f"{what:<58} {seconds:>8.2f}")


if __name__ == "__main__":
    main()
