"""Priors learned from past trials: ``fit`` (the empirical-Bayes fits and the strength
cap), ``learn`` (per channel and stage, money per currency) and ``backtest``
(leave-one-trial-out: would the priors have helped on day 7?)."""
