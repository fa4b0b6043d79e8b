"""Drawing more until the verdict is settled, on planted runs: settled at once, settled by
more draws, the cap and its conservative answer, a failing further run; and how close it
was in the verdict's words and in ``analyze --json``."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from inference.funnel.spec import ModelSpec
from inference.rule import SETTLED_ERRORS, winner_threshold
from inference.settling import settle_seed
from inference.summary import Diagnostics, Posterior
from tests.trials.analysis.test_decisions import make_trial, steady_days, totals
from trials.analysis import settle as settling
from trials.analysis.decisions import decide
from trials.domain import PrimaryMetric
from trials.reports.contract import decision_dict

TRIAL = make_trial(metric=PrimaryMetric.CONVERSION_RATE, arms=2, control=False)
DAYS = 28  # the planned length: the last look, at the final bar
BAR = winner_threshold(0.95, 2, 1.0, DAYS, 7)
BASE = ModelSpec().sampler.draws


def two_arms(p_best: float, n: int, seed: int = 0, reliable: bool = True) -> Posterior:
    """Independent draws in which arm B converts better than A in a share ``p_best`` of
    the draws, exactly; ROAS far above break-even for both."""
    rng = np.random.default_rng(seed)
    b_best = np.zeros(n, bool)
    b_best[: round(p_best * n)] = True
    rng.shuffle(b_best)
    a = rng.normal(0.04, 0.001, n)
    cvr = np.column_stack([a, np.where(b_best, a * 1.2, a * 0.8)])
    roas = np.full((n, 2), 5.0) * rng.lognormal(0, 0.01, (n, 2))
    draws = {
        "ctr": np.full((n, 2), 0.02),
        "cvr": cvr,
        "revenue_per_conversion": np.full((n, 2), 100.0),
        "roas": roas,
        "cpa": 2.0 / cvr,
        "revenue_per_impression": 0.02 * cvr * 100,
    }
    diagnostics = Diagnostics(reliable=reliable, reasons=() if reliable else ("R-hat 1.05",))
    return Posterior("mcmc", ModelSpec(), ("a", "b"), "digest", draws, {}, diagnostics, seed=seed)


def data():
    return SimpleNamespace(
        trial=TRIAL,
        funnel=SimpleNamespace(n_arms=2),
        totals=totals(TRIAL, conversions=60, days=DAYS),
        daily=steady_days(TRIAL, days=DAYS),
    )


def planted_runs(monkeypatch, p_best_of_run, reliable_of_run=None):
    """Make each run of the settling return planted draws; records the runs asked for."""
    asked = []

    def one_run(data, spec, seed, draws, progress):
        r = len(asked)
        asked.append((seed, draws))
        reliable = True if reliable_of_run is None else reliable_of_run[r]
        return two_arms(p_best_of_run[r], draws, seed=seed, reliable=reliable)

    monkeypatch.setattr(settling, "_one_run", one_run)
    return asked


def error(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


def test_a_verdict_far_from_the_bar_costs_one_run(monkeypatch):
    asked = planted_runs(monkeypatch, [0.999])
    posterior = settling.settled_fit(data(), spec=ModelSpec(), seed=7)
    assert asked == [(7, BASE)]
    d = decide(TRIAL, posterior, data().totals, data().daily)
    assert d.verdict == "scale" and d.settled and d.draws_used == BASE
    assert d.margin == pytest.approx(0.999 - BAR, abs=1e-3)


def test_a_close_verdict_draws_more_until_settled(monkeypatch):
    # First run on the bar; the pooled draws then show it clears it by more than k errors.
    near = BAR + 0.5 * error(BAR, BASE)
    asked = planted_runs(monkeypatch, [near, 0.9995])
    posterior = settling.settled_fit(data(), spec=ModelSpec(), seed=7)
    assert asked == [(7, BASE), (settle_seed(7, 1), 3 * BASE)]
    assert posterior.n_draws == 4 * BASE and posterior.seed == 7
    assert "sampled 1 more time with seeds fixed by the first" in posterior.notes[-1]
    d = decide(TRIAL, posterior, data().totals, data().daily)
    assert d.verdict == "scale" and d.settled and d.draws_used == 4 * BASE


def test_at_the_cap_a_verdict_still_on_the_bar_keeps_testing_too_close_to_call(monkeypatch):
    asked = planted_runs(monkeypatch, [BAR] * 3)
    posterior = settling.settled_fit(data(), spec=ModelSpec(), seed=7)
    assert [n for _, n in asked] == [BASE, 3 * BASE, 12 * BASE]  # 16 x in all, then stop
    assert len({s for s, _ in asked}) == 3
    d = decide(TRIAL, posterior, data().totals, data().daily)
    assert d.verdict == "keep_testing" and not d.settled and not d.rule_met
    assert d.draws_used == 16 * BASE
    assert abs(d.margin) < SETTLED_ERRORS * d.p_best_error
    assert d.p_best_error == pytest.approx(error(BAR, 16 * BASE), rel=0.05)
    assert "too close to call" in d.reason
    assert f"chance to be best (± {d.p_best_error:.2%} from sampling)" in d.reason
    assert f"on the bar of {BAR:.2%}" in d.reason
    assert "after 24,000 posterior draws" in d.reason
    assert [a.recommendation for a in d.arms] == ["keep_testing", "keep_testing"]
    out = decision_dict(TRIAL, d)["decision"]
    assert out["settled"] is False and out["draws_used"] == 16 * BASE
    assert out["margin"] == pytest.approx(d.margin, abs=1e-5)
    assert out["p_best_mc_error"] == pytest.approx(d.p_best_error, abs=1e-5)
    assert out["close_calls"][0] == {
        "quantity": "p_best",
        "arm": TRIAL.arms[1].name,
        "value": pytest.approx(BAR, abs=1e-4),
        "mc_error": pytest.approx(d.p_best_error, abs=1e-5),
        "bar": pytest.approx(BAR, abs=1e-5),
    }


def test_many_arms_are_capped_by_draws_times_arms(monkeypatch):
    asked = planted_runs(monkeypatch, [BAR] * 3)
    many = SimpleNamespace(**(vars(data()) | {"funnel": SimpleNamespace(n_arms=10)}))
    settling.settled_fit(many, spec=ModelSpec(), seed=7)
    assert sum(n for _, n in asked) == settling.DRAW_CELLS // 10


def test_a_further_run_that_fails_its_checks_is_not_pooled(monkeypatch):
    asked = planted_runs(monkeypatch, [BAR, BAR], reliable_of_run=[True, False])
    posterior = settling.settled_fit(data(), spec=ModelSpec(), seed=7)
    assert len(asked) == 2 and posterior.n_draws == BASE
    assert posterior.diagnostics.reliable
    assert "failed a check (R-hat 1.05); not used" in posterior.notes[-1]
    assert decide(TRIAL, posterior, data().totals, data().daily).verdict == "keep_testing"


def test_an_unreliable_first_fit_is_not_sampled_again(monkeypatch):
    asked = planted_runs(monkeypatch, [BAR], reliable_of_run=[False])
    settling.settled_fit(data(), spec=ModelSpec(), seed=7)
    assert len(asked) == 1


def test_a_settled_close_winner_says_how_close_it_was():
    p = BAR + (SETTLED_ERRORS + 0.5) * error(BAR, 40_000)
    d = decide(TRIAL, two_arms(p, 40_000), data().totals, data().daily)
    assert d.verdict == "scale" and d.settled
    points = (d.margin) * 100
    assert f"{points:.2f} points above the {BAR:.2%} a winner needs" in d.reason
    assert f"(± {d.p_best_error:.2%} from sampling)" in d.reason
