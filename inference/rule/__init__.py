"""The pre-registered decision rule, applied to a posterior: one verdict for the whole trial.

This package is the single definition of "the rule is met". The analysis of a running
trial and the planner's simulations both call :func:`verdict`, so what a plan promises
is what ``analyze`` does. Everything is plain numbers in, plain numbers out.

The rule, for a trial of k arms on a primary metric X (higher is better; CPA is compared
the other way round):

* **Gates.** Every arm still in contention has ``min_days`` days of data and
  ``min_conversions_per_arm`` conversions, and the fit is reliable. An arm *clearly
  behind* (below) is out of contention and need not reach the conversions, so a
  zero-conversion arm cannot hold a trial hostage; it still counts in P(best) and in k.
* **Clearly behind.** Arm i, with ``min_days`` of data and a reliable fit, is clearly
  behind the leader L when P(X_i > X_L) <= 1 - w, with w the winner threshold below.
* **Scale** (a winner). The leader's P(best) >= w with three Monte Carlo errors to spare
  (a settled verdict: another run of the sampler would not overturn it; the analysis
  draws more near the bar, ``inference.settling``), its expected loss
  E[max_j X_j - X_L] / E[X_L] <= ``expected_loss_threshold``, and, where revenue is
  known, P(ROAS_L > break-even) >= ``profit_confidence``.
* **Equal.** P(every arm within ``equivalence_margin`` of the leader, |X_i / X_L - 1| <=
  m) >= ``probability_threshold``: a region of practical equivalence on the lift, not a
  P(best) that falls just short.
* **Stop all.** Every arm with a ROAS estimate returns above break-even with probability
  below 1 - ``profit_confidence`` (each probably loses money), after ``min_days``, on a
  reliable fit. (An arm alone can be told it probably loses money the same way.)
* Otherwise **keep testing**.

The winner threshold guards the trial, not each arm, and every look at the data. Each
of the k arms may be called the winner by chance with probability alpha = (1 - p) / k
(Bonferroni over arms, p the rule's probability), and that alpha is spread over the
daily looks from ``min_days`` to the planned end by a Wang-Tsiatis boundary on the
z scale,

    w(t) = Phi( C * t^(Delta - 1/2) ),   t = share of the planned days with data (>= 0.2)

with Delta = ``BOUNDARY_DELTA`` (0 is O'Brien-Fleming's shape, 1/2 a constant bar) and C
set so that a path of daily z-statistics under no difference crosses on some look with
probability alpha (:func:`boundary_constant`, by simulation of Brownian paths). So
checking every day and acting at the first ``scale`` keeps the false-scale rate of
identical arms within 1 - p; a single look at the end needs 1 - (1 - p) / k (97.5 % for
two arms at 95 %). After the planned end the bar stays at its final level.

The rule lives in four modules, all re-exported here: ``bars`` (the :class:`Rule`, the
names of the verdicts and gates, the look boundary and :func:`winner_threshold`),
``draws`` (:func:`quantities_from_draws`: what the rule reads off posterior draws),
``batch`` (:func:`judge`: the rule over a batch of looks, the one implementation) and
``single_look`` (:func:`verdict`: one real look judged into a :class:`Verdict`).
"""

from inference.rule.bars import (
    BOUNDARY_DELTA,
    BOUNDARY_PATHS,
    BOUNDARY_SEED,
    GATES,
    MIN_INFORMATION,
    SETTLED_ERRORS,
    VERDICTS,
    Rule,
    boundary_constant,
    winner_threshold,
)
from inference.rule.batch import Batch, judge
from inference.rule.draws import Quantities, quantities_from_draws
from inference.rule.single_look import Verdict, look, verdict

__all__ = [
    "BOUNDARY_DELTA",
    "BOUNDARY_PATHS",
    "BOUNDARY_SEED",
    "GATES",
    "MIN_INFORMATION",
    "SETTLED_ERRORS",
    "VERDICTS",
    "Batch",
    "Quantities",
    "Rule",
    "Verdict",
    "boundary_constant",
    "judge",
    "look",
    "quantities_from_draws",
    "verdict",
    "winner_threshold",
]
