"""Draw more until the verdict is settled, so that it does not depend on the seed.

After the first fit, :func:`trials.analysis.decisions.decide` says whether the verdict is settled
(``inference.settling``: no value within k Monte Carlo errors of the rule's estimates
changes it). If not, the trial is sampled again with a seed fixed by the first
(``inference.settling.settle_seed``) and the draws of every run are pooled, to
``SCHEDULE`` times the first run's draws (4, then 16), fewer for trials with many arms
(at most ``DRAW_CELLS`` draws per chain times arms), until the verdict is settled or the
draws run out. An unsettled verdict is then the rule's conservative answer: keep
testing, too close to call, with how close it was. Each run must pass the sampler's
checks; one that fails ends the settling with the draws so far (its reasons are noted).

A verdict far from every bar costs one run, as before. The exact preview is exact and
drives no verdict, so it is never settled.
"""

from __future__ import annotations

from dataclasses import replace

from inference.settling import settle_seed
from inference.summary import Posterior, pooled

__all__ = ["DRAW_CELLS", "SCHEDULE", "settled_fit"]

SCHEDULE = (4, 16)  # total draws per chain as multiples of the first run's
# Draws per chain times arms the settling may reach: 16 x 1,500 draws for up to 4 arms,
# 10,000 per chain for 10 arms (a 10-arm trial settles within about 4 s on 2 cores).
DRAW_CELLS = 100_000


def _one_run(data, spec, seed: int, draws: int, progress) -> Posterior:
    from inference.funnel.fit import fit_mcmc

    sampler = replace(spec.sampler, draws=draws)
    return fit_mcmc(data.funnel, replace(spec, sampler=sampler), seed=seed, progress=progress)


def _per_chain(posterior: Posterior) -> int:
    """Draws per chain (all draws, for independent draws)."""
    return sum(d for _, d in posterior.runs) if posterior.runs else posterior.n_draws


def settled_fit(data, *, spec, seed: int, progress=None) -> Posterior:
    """The trial's MCMC posterior (``trials.analysis.result.TrialData`` ``data``), with more
    draws when its verdict is not settled."""
    from trials.analysis.decisions import decide

    first = _one_run(data, spec, seed, spec.sampler.draws, progress)
    runs = [first]
    posterior = first
    base = _per_chain(first)
    cap = max(DRAW_CELLS // max(data.funnel.n_arms, 1), base)
    daily = list(data.daily)
    for n, factor in enumerate(SCHEDULE, start=1):
        if not posterior.diagnostics.reliable:
            break  # an unreliable fit keeps testing whatever its estimates
        if decide(data.trial, posterior, data.totals, daily).settled:
            break
        more = min(factor * base, cap) - sum(_per_chain(r) for r in runs)
        if more <= 0:
            break
        if progress is not None:
            progress(0.0, "sampling more: the verdict is close to the bar")
        run = _one_run(data, spec, settle_seed(seed, n), more, progress)
        if not run.diagnostics.reliable:
            reasons = "; ".join(run.diagnostics.reasons)
            note = f"a further run to settle the verdict failed a check ({reasons}); not used"
            posterior = pooled(runs, _note(runs, base, note))
            break
        runs.append(run)
        posterior = pooled(runs, _note(runs, base))
    return posterior


def _note(runs: list[Posterior], base: int, extra: str = "") -> str:
    total = sum(r.n_draws for r in runs)
    if len(runs) == 1:
        return extra
    text = (
        f"the verdict was close to the bar, so the model was sampled {len(runs) - 1} more "
        f"time{'s' * (len(runs) > 2)} with seeds fixed by the first: {total:,} draws in all, "
        f"{sum(_per_chain(r) for r in runs) / base:g} times the usual"
    )
    return f"{text}; {extra}" if extra else text
