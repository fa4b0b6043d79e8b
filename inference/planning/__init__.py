"""Planning a trial before the money is spent, and progress toward a decision while it runs.

Bayesian assurance (O'Hagan, Stevens and Campbell 2005) is the probability that the
trial's decision rule reaches a confident decision, averaged over a *design prior*: what
we believe about the true rates before the trial. Per simulated trial:

    p_0            ~ Beta(baseline * s, (1 - baseline) * s)      (the baseline, strength s)
    log(1 + lift)  ~ Normal(log(1 + L), 0.5 log(1 + L))          (the best variant's lift)
    p_best = p_0 (1 + lift),  every other arm at p_0
    successes[a, t] ~ Binomial(n_eff t, p_a)   for t = 1 .. max_days

where n is the arm's daily clicks (or impressions, for CTR) and n_eff = n / DE with the
design effect DE = 1 + (n - 1) / (kappa + 1): real daily rates vary (beta-binomial with
concentration kappa, as in the funnel model), so a day of n clicks carries the
information of n / DE independent ones. Each day's posterior is the exact conjugate
Beta(1 + k, 1 + n_eff t - k) per arm (effective counts), and the rule is met when

``inference.rule.judge`` (the same code ``analyze`` runs) reaches a verdict: a winner
(``scale``) or practically equal arms (``equal``), with

    P(best_a)         = int f_a(x) prod_{b != a} F_b(x) dx
    E[max]            = int (1 - prod_b F_b(x)) dx
    P(b beats leader) = int f_L(x) (1 - F_b(x)) dx
    P(equal)          = int f_L(x) prod_{b != L} (F_b(x (1 + m)) - F_b(x (1 - m))) dx

by quadrature (m the rule's equivalence margin). The assurance curve is the share of
simulated trials that meet the rule on day t; the classical figure beside it is the
two-proportion fixed-horizon sample size

    n = (z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{1-beta} sqrt(p1 q1 + p2 q2))^2 / (p2 - p1)^2.

Everything here is numpy and scipy: a plan answers in about a second.

``plan`` (inputs, ``plan_trial``, advice), ``assurance`` (the simulation), ``looks`` (the
rule on Beta posteriors) and ``progress`` (days to a decision while a trial runs).
"""
