"""Tier 3 (slow, run in CI): the funnel model on messy exports with known truth.

Trials come from ``tests/inference/messy.py`` (view-through days, conversions without
revenue, pauses with late conversions, lagged own orders, single price, one day of data).
Each test states its threshold and the Monte Carlo error it is measured with.
"""

import math
import time

import numpy as np
import pytest
from scipy import stats

from inference import FunnelData
from inference.funnel.fit import fit_mcmc
from inference.rule import Rule, quantities_from_draws, verdict
from inference.summary import hdi
from tests.inference.messy import ArmTruth, Features, messy_trial, sixty_arms
from tests.inference.operating import rate_error
from tests.inference.reference import reference_draws

pytestmark = pytest.mark.slow


def relative_move(after: float, before: float) -> float:
    return abs(after / before - 1)


# --- a. one arm's view-through days --------------------------------------------------

VT_ARMS = [
    ArmTruth("Search", cvr=0.03, daily_spend=100.0),  # A
    ArmTruth("Search", cvr=0.04, daily_spend=100.0),  # B: gets the view-through days
    ArmTruth("Social", ctr=0.01, cvr=0.02, daily_spend=100.0),
    ArmTruth("Social", ctr=0.012, cvr=0.025, daily_spend=100.0),
]
VT_TRIALS = 8


@pytest.mark.parametrize("vt_days", [1, 7])
def test_one_arms_view_through_days_do_not_move_another_arm(vt_days):
    """A and B share a channel (pooled). B is given 1 (or 7) days on which the platform
    reports more conversions than clicks; everything else is the same data. Over 8 trials
    A's CVR and ROAS posterior means move by less than 2 % in every trial (each mean's
    Monte Carlo error is about 0.2-0.5 %, so a difference of two fits about 0.3-0.7 %),
    and B's CVR posterior mean stays within 10 % of its fit without the view-through
    days (it is not pulled towards 100 %)."""
    moves = {"cvr": [], "roas": []}
    b_moves = []
    for n in range(VT_TRIALS):
        clean = messy_trial(n, VT_ARMS)
        messy = messy_trial(n, VT_ARMS, features=Features(view_through={1: vt_days}))
        assert messy.data.view_through_excess > 0
        before = fit_mcmc(clean.data, seed=n)
        after = fit_mcmc(messy.data, seed=n)
        assert after.diagnostics.reliable, after.diagnostics.reasons
        for metric in moves:
            moves[metric].append(
                relative_move(after.draws[metric][:, 0].mean(), before.draws[metric][:, 0].mean())
            )
        b_before, b_after = before.draws["cvr"][:, 1].mean(), after.draws["cvr"][:, 1].mean()
        b_moves.append(b_after / b_before - 1)
        assert b_after < 2 * clean.truth.cvr[1]
    print(
        f"\n{vt_days} view-through day(s) on B: A's CVR moved at most "
        f"{max(moves['cvr']):.2%} (median {np.median(moves['cvr']):.2%}), ROAS at most "
        f"{max(moves['roas']):.2%} (median {np.median(moves['roas']):.2%}); B's CVR moved "
        f"{min(b_moves):+.2%} .. {max(b_moves):+.2%}"
    )
    assert max(moves["cvr"]) < 0.02
    assert max(moves["roas"]) < 0.02
    assert max(abs(m) for m in b_moves) < 0.10


# --- b. conversions without revenue ---------------------------------------------------

BREAK_EVEN = 2.0
PAYING_ARMS = [
    # Revenue / spend about 2.6: above break-even.
    ArmTruth("Shop", cvr=0.038, order_value=80.0, paying_share=0.9, daily_spend=600.0),
    # Many conversions, most without revenue: revenue / spend about 1.75, below break-even,
    # though were every conversion an order it would return 4.6 per unit spent.
    ArmTruth("Shop", cvr=0.06, order_value=80.0, paying_share=0.38, daily_spend=600.0),
]
PAYING_TRIALS = 10


def test_conversions_without_revenue_lower_roas_to_revenue_over_spend():
    """A known paying share (0.9 and 0.38 of conversions carry revenue) and two whole days
    without revenue per arm, 28 days of 20-35 conversions a day. In each of 10 trials each
    arm's ROAS posterior mean is within 5 % of its revenue / spend (Monte Carlo error of
    the mean about 0.3 %; revenue / spend is the same data, so its sampling error does not
    enter), and an arm whose revenue / spend is below break-even 2.0 is never reported
    above it with P > 0.8 (the losing arm's true ROAS is 12 % below break-even; revenue /
    spend scatters around it by about 8 %)."""
    worst, p_above = 0.0, []
    for n in range(PAYING_TRIALS):
        trial = messy_trial(
            100 + n, PAYING_ARMS, features=Features(days_without_revenue={0: 2, 1: 2})
        )
        assert trial.truth.roas[1] < BREAK_EVEN < trial.truth.roas[0]
        posterior = fit_mcmc(trial.data, seed=n)
        assert posterior.diagnostics.reliable, posterior.diagnostics.reasons
        t = trial.data.totals()
        observed = t.revenue / t.spend
        mean = posterior.draws["roas"].mean(axis=0)
        worst = max(worst, float(np.max(np.abs(mean / observed - 1))))
        for a in np.flatnonzero(observed < BREAK_EVEN):
            p_above.append(float((posterior.draws["roas"][:, a] > BREAK_EVEN).mean()))
    print(
        f"\nconversions without revenue: ROAS mean within {worst:.2%} of revenue / spend; "
        f"P(ROAS > break-even) of {len(p_above)} arms below it at most {max(p_above):.3f}"
    )
    assert worst < 0.05
    assert len(p_above) >= PAYING_TRIALS // 2
    assert max(p_above) <= 0.8


# --- c. late conversions after a pause, lagged own orders ------------------------------

LAG_ARMS = [
    ArmTruth("Search", cvr=0.03, daily_spend=300.0),
    ArmTruth("Search", cvr=0.035, order_value=70.0, daily_spend=300.0),
]
LAG_TRIALS = 8


def lag_cases(n: int) -> dict:
    return {
        "clean": messy_trial(200 + n, LAG_ARMS),
        "pause": messy_trial(
            200 + n, LAG_ARMS, features=Features(pause=(10, 11, 12, 13), late_share=0.3)
        ),
        "lag": messy_trial(200 + n, LAG_ARMS, features=Features(lag_days=3)),
    }


def worst_roas_error(case: str) -> float:
    """Largest |ROAS posterior mean / (revenue / spend) - 1| over the arms of LAG_TRIALS."""
    worst = 0.0
    for n in range(LAG_TRIALS):
        trial = lag_cases(n)[case]
        posterior = fit_mcmc(trial.data, seed=n)
        assert posterior.diagnostics.reliable, posterior.diagnostics.reasons
        t = trial.data.totals()
        mean = posterior.draws["roas"].mean(axis=0)
        worst = max(worst, float(np.max(np.abs(mean / (t.revenue / t.spend) - 1))))
    return worst


def test_roas_is_revenue_over_spend_with_late_conversions_after_a_pause():
    """Plenty of data (about 10 conversions per arm and day). With a four-day pause during
    which late conversions (30 % of all, dated 1-5 days after the click) keep arriving on
    days without clicks or spend, each arm's ROAS posterior mean is within 3 % of its
    revenue / spend in each of 8 trials (Monte Carlo error of a mean about 0.3 %)."""
    worst = worst_roas_error("pause")
    print(f"\npause with late conversions: ROAS mean within {worst:.2%} of revenue / spend")
    assert worst < 0.03


LAGGED_ROAS = (
    "measured: with every order dated 3 days after its click, ROAS posterior means sit up to "
    "4.7 % from revenue / spend (8 trials x 2 arms; typically 1-2 %): the conversion rate "
    "is a beta-binomial mean over days whose conversions belong to other days' clicks, not "
    "the pooled converted / paired clicks the ROAS identity assumes"
)


@pytest.mark.xfail(strict=True, reason=LAGGED_ROAS)
def test_roas_is_revenue_over_spend_with_orders_dated_three_days_after_the_click():
    """The same trials with every own order dated 3 days after its click (the first three
    days have clicks and no conversions, three days after the last click have conversions
    and no clicks): each arm's ROAS posterior mean is within 3 % of its revenue / spend in
    each of 8 trials (Monte Carlo error of a mean about 0.3 %)."""
    worst = worst_roas_error("lag")
    print(f"\n3-day lag: ROAS mean within {worst:.2%} of revenue / spend")
    assert worst < 0.03


LAGGED_WIDTH = (
    "measured: lagged / unlagged 94 % ROAS interval width has median 1.43 (1.25-1.73) over "
    "8 trials x 2 arms; the day-to-day concentration reads the mismatched days as variation "
    "(the reference's bootstrap over days: 1.52)"
)


@pytest.mark.xfail(strict=True, reason=LAGGED_WIDTH)
def test_lagged_orders_do_not_inflate_the_roas_interval():
    """The same trials as above, every own order dated 3 days after its click: the 94 %
    ROAS interval is at most 20 % wider than the same data's without the lag (median over
    2 arms x 8 trials; each width's Monte Carlo error is about 2-3 %). The reference's
    (bootstrap over days) ratio is printed alongside."""
    widths, ref_widths = [], []
    for n in range(LAG_TRIALS):
        cases = lag_cases(n)
        fits = {name: fit_mcmc(cases[name].data, seed=n) for name in ("clean", "lag")}
        refs = {name: reference_draws(cases[name].data, seed=n)["roas"] for name in fits}
        for a in range(2):
            lagged, unlagged = fits["lag"].interval("roas", a), fits["clean"].interval("roas", a)
            widths.append((lagged.high - lagged.low) / (unlagged.high - unlagged.low))
            ref = {name: hdi(r[:, a], 0.94) for name, r in refs.items()}
            ref_widths.append((ref["lag"][1] - ref["lag"][0]) / (ref["clean"][1] - ref["clean"][0]))
    print(
        f"\nlagged / unlagged ROAS interval width: median {np.median(widths):.3f} "
        f"(range {min(widths):.3f}..{max(widths):.3f}); reference {np.median(ref_widths):.3f}"
    )
    assert np.median(widths) <= 1.2


# --- e. one day per arm ---------------------------------------------------------------


def binomial_p_b_beats_a(a: tuple[int, int], b: tuple[int, int]) -> float:
    """P(rate_B > rate_A) under independent Beta(1 + x, 1 + n - x) posteriors."""
    grid = np.linspace(0, 1, 200_001)
    pa = stats.beta(1 + a[0], 1 + a[1] - a[0])
    pb = stats.beta(1 + b[0], 1 + b[1] - b[0])
    return float(np.trapezoid(pb.pdf(grid) * pa.cdf(grid), grid))


@pytest.mark.parametrize("channels", [("Search", "Search"), ("Search", "Social")])
def test_one_day_per_arm_is_nearly_the_binomial_answer(channels):
    """100 of 1,000 clicks converting against 120 of 1,000, on one day per arm: P(B > A)
    for CVR is at least 0.85 (the binomial's is 0.92; its Monte Carlo error here is about
    0.005), and the posterior notes, on the CVR and ROAS intervals, that one day cannot
    tell how much days vary."""
    rows = [
        dict(arm=i, day="2026-09-01", impressions=20_000, clicks=1000, conversions=c, spend=500.0,
             revenue=80.0 * c)
        for i, c in enumerate((100, 120))
    ]  # fmt: skip
    data = FunnelData.from_rows([(channels[0], "A"), (channels[1], "B")], rows)
    posterior = fit_mcmc(data, seed=5)
    cvr = posterior.draws["cvr"]
    p = float((cvr[:, 1] > cvr[:, 0]).mean())
    error = math.sqrt(p * (1 - p) / posterior.diagnostics.ess_bulk_min)
    exact = binomial_p_b_beats_a((100, 1000), (120, 1000))
    ref = reference_draws(data, seed=5)["cvr"]
    p_ref = float((ref[:, 1] > ref[:, 0]).mean())
    print(
        f"\none day per arm, {channels}: P(B > A) {p:.3f} ± {error:.3f} "
        f"(binomial {exact:.3f}, reference {p_ref:.3f}); reliable: "
        f"{posterior.diagnostics.reliable}"
    )
    assert exact == pytest.approx(0.92, abs=0.01)
    assert p >= 0.85
    for metric in ("cvr", "roas"):
        for arm in range(2):
            note = posterior.interval(metric, arm).note
            assert note and "1 day" in note, (metric, arm, note)


# --- f. single-price product ----------------------------------------------------------


def test_single_price_product_fits_cleanly():
    """60 arms (10 channels of 6) over 30 days, revenue = conversions x 49: the fit is
    reliable at the first run, without divergences (it used to hang for minutes; the time
    beside the varied trial is `make bench`'s)."""
    arms = sixty_arms(60)
    varied = messy_trial(60, arms, days=30)
    single = messy_trial(60, arms, days=30, features=Features(single_price=49.0))
    assert (single.data.revenue == 49.0 * single.data.conversions).all()
    import inference.funnel.sampler  # noqa: F401  (load the compiled sampler outside the timing)

    seconds = {}
    posteriors = {}
    for name, trial in (("varied", varied), ("single price", single)):
        started = time.perf_counter()
        posteriors[name] = fit_mcmc(trial.data, seed=1)
        seconds[name] = time.perf_counter() - started
    print(
        f"\n60 arms x 30 days: varied order values {seconds['varied']:.1f} s, single price "
        f"{seconds['single price']:.1f} s; notes: {posteriors['single price'].notes}"
    )
    d = posteriors["single price"].diagnostics
    assert d.reliable, d.reasons
    assert not any("sampled twice" in note for note in posteriors["single price"].notes)
    # How fast, against the varied trial: `make bench` ("60 arms x 30 days"). What the
    # test holds is that the constant price is learned without a struggle:
    assert posteriors["single price"].diagnostics.divergences == 0


# --- g. A/A on messy data -------------------------------------------------------------

AA_TRIALS = 150
AA_ARM = ArmTruth("Search", cvr=0.03, paying_share=0.8, daily_spend=60.0)
AA_FEATURES = Features(
    view_through={0: 1, 1: 1},
    days_without_revenue={0: 2, 1: 2},
    pause=(12, 13, 14),
    late_share=0.2,
)

AA_MESSY = (
    "measured over 60 trials with unpaired conversions counted as lumps of a day "
    "(inference.funnel.derived.unpaired_lump_size): scaled 0 / 60 (± 1.7 %), ROAS coverage 100 % "
    "(over the 98 % ceiling: conservative), CVR coverage 86.7 % ± 3.1 %. Counted one by "
    "one (before, 150 trials) they scaled 8.0 % ± 2.2 % and covered ROAS 85.7 % ± 2.0 %; "
    "the truth lies between a Poisson count and one event per lump"
)


@pytest.mark.xfail(strict=True, reason=AA_MESSY)
def test_identical_arms_on_messy_data_false_scale_and_coverage():
    """Two identical arms in one channel over 28 days (about 50 click conversions each,
    20 % of conversions carrying no revenue, two days without revenue, one view-through
    day each, a 3-day pause with late conversions arriving), judged once at the planned
    end by the default rule (break-even 1.0, well below the true ROAS). Over 150 trials:
    the rule says ``scale`` in at most 5 % (Monte Carlo error about 1.8 %), and the 94 %
    intervals of ROAS and CVR cover the truth in 88-98 % of the 300 arm-intervals (error
    about 1.4 %)."""
    scaled, unreliable = [], 0
    hits = {"roas": [], "cvr": []}
    rule = Rule(planned_days=28)
    for n in range(AA_TRIALS):
        trial = messy_trial(1000 + n, [AA_ARM, AA_ARM], features=AA_FEATURES)
        posterior = fit_mcmc(trial.data, seed=n)
        unreliable += not posterior.diagnostics.reliable
        roas = posterior.draws["roas"]
        t = trial.data.totals()
        v = verdict(
            quantities_from_draws(roas, effective_draws=posterior.diagnostics.ess_bulk_min),
            rule,
            days=t.days.tolist(),
            conversions=t.conversions.tolist(),
            reliable=posterior.diagnostics.reliable,
            p_profit=[float((roas[:, a] > 1.0).mean()) for a in range(2)],
        )
        scaled.append(v.code == "scale")
        for metric in hits:
            for a in range(2):
                interval = posterior.interval(metric, a)
                hits[metric].append(
                    interval.low <= getattr(trial.truth, metric)[a] <= interval.high
                )
    rate = rate_error(scaled)
    coverage = {m: rate_error(h) for m, h in hits.items()}
    print(
        f"\nA/A messy, {AA_TRIALS} trials: scaled {rate[0]:.3f} ± {rate[1]:.3f}; coverage "
        + ", ".join(f"{m} {c[0]:.3f} ± {c[1]:.3f}" for m, c in coverage.items())
        + f"; unreliable fits {unreliable}"
    )
    assert rate[0] <= 0.05
    for m, (c, _) in coverage.items():
        assert 0.88 <= c <= 0.98, (m, c)
