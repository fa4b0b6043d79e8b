"""``python -m trials plan``: size a trial before it runs, or (``--goal-conversions`` /
``--goal-revenue`` with ``--by``) the budget that reaches a goal by a date."""

from __future__ import annotations

import argparse
from datetime import date

from trials.cli.common import EXIT_OK, CliError, fraction, open_store, print_json, print_table

__all__ = ["add_plan_command"]


def add_plan_command(sub) -> None:
    p = sub.add_parser(
        "plan",
        help="size a trial before it runs (assurance, days, budget), or the budget that "
        "reaches a goal by a date",
        description="Bayesian assurance that the decision rule is met, from a design prior on "
        "the baseline and the lift (--lift, --arms). Rates and lifts take 0.03 or 3%%. "
        "Budget by goal (--goal-conversions N or --goal-revenue R, with --by DATE): the "
        "least spend, per channel and arm, that reaches the goal with 50%% and 80%% "
        "probability, from the trials' posteriors and response curves.",
    )
    p.add_argument("--baseline-cvr", type=fraction, metavar="P", help="conversions per click")
    p.add_argument("--lift", type=fraction, metavar="L", help="smallest lift worth finding")
    p.add_argument("--arms", type=int, metavar="K", help="arms, control included")
    volume = p.add_mutually_exclusive_group()
    volume.add_argument(
        "--clicks-per-day", type=float, metavar="N", help="the whole trial's daily clicks"
    )
    volume.add_argument(
        "--daily-budget", type=float, metavar="B", help="the whole trial's daily budget"
    )
    p.add_argument("--cpc", type=float, metavar="C", help="cost per click")
    p.add_argument("--assurance", type=fraction, default=0.8, metavar="A", help="default 0.8")
    p.add_argument("--baseline-ctr", type=fraction, metavar="P", help="clicks per impression")
    p.add_argument("--metric", choices=["cvr", "ctr"], default="cvr", help="what is compared")
    p.add_argument("--budget-cap", type=float, metavar="B", help="the most the trial may spend")
    p.add_argument("--max-days", type=int, default=60, metavar="D", help="longest run considered")
    p.add_argument("--min-days", type=int, default=7, help="decision rule: minimum days")
    p.add_argument("--min-conversions", type=int, default=25, help="decision rule: per arm")
    p.add_argument(
        "--probability", type=fraction, default=0.95, help="decision rule: P(best) to act"
    )
    p.add_argument(
        "--expected-loss", type=fraction, default=0.01, help="decision rule: largest loss share"
    )
    p.add_argument(
        "--from-workspace",
        action="store_true",
        help="take baseline CVR, CTR and CPC not given from the priors learned from the "
        "workspace's finished trials (see `priors`)",
    )
    p.add_argument(
        "--currency",
        metavar="C",
        help="the one currency money is read in (never mixed across currencies): with "
        "--from-workspace, whose cost per click to use (needed when finished trials use "
        "several); with a goal, plan the trials in this currency",
    )
    p.add_argument("--simulations", type=int, default=400, help="simulated trials (default 400)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    p.add_argument("--json", action="store_true", help="print JSON")
    goal = p.add_argument_group("budget by goal")
    target = goal.add_mutually_exclusive_group()
    target.add_argument(
        "--goal-conversions", type=_positive_int, metavar="N", help="conversions to reach"
    )
    target.add_argument(
        "--goal-revenue",
        type=_positive_float,
        metavar="R",
        help="revenue to reach (currency)",
    )
    goal.add_argument("--by", type=_iso_date, metavar="YYYY-MM-DD", help="the goal's last day")
    goal.add_argument(
        "--from",
        dest="from_date",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="the first day of spending (default: today)",
    )
    goal.add_argument(
        "--trial",
        dest="trials",
        action="append",
        default=[],
        metavar="T",
        help="a trial to plan from, by name or id (repeat; default: every trial with data "
        "that is not archived)",
    )
    goal.add_argument(
        "--channels",
        nargs="+",
        default=[],
        metavar="CHANNEL",
        help="plan only these channels; one with no trial here is planned from past trials' rates",
    )
    goal.add_argument(
        "--method",
        choices=["mcmc", "exact"],
        default="mcmc",
        help="mcmc (default, the full model) or exact (a labelled preview)",
    )
    p.set_defaults(run=_plan, parser=p)


_ASSURANCE_ONLY = ("lift", "arms", "clicks_per_day", "daily_budget", "baseline_cvr", "cpc")
_GOAL_ONLY = ("by", "from_date")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the goal must be above 0")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("the goal must be a number above 0")
    return value


def _plan(args) -> int:
    goal = args.goal_conversions is not None or args.goal_revenue is not None
    if goal:
        given = [n for n in _ASSURANCE_ONLY if getattr(args, n) is not None]
        mixed = [f"--{n.replace('_', '-')}" for n in given]
        if mixed:
            args.parser.error(f"a goal plan does not take {', '.join(mixed)}")
        if args.by is None:
            args.parser.error("--goal-conversions and --goal-revenue need --by YYYY-MM-DD")
        return _goal_plan(args)
    given = [n for n in _GOAL_ONLY if getattr(args, n) is not None]
    if given or args.trials or args.channels:
        args.parser.error(
            "--by, --from, --trial and --channels go with --goal-conversions or --goal-revenue"
        )
    if args.currency is not None and not args.from_workspace:
        args.parser.error("--currency goes with --from-workspace or a goal")
    missing = [f"--{n}" for n in ("lift", "arms") if getattr(args, n) is None]
    if missing:
        args.parser.error(f"the following arguments are required: {', '.join(missing)}")
    return _assurance_plan(args)


def _goal_plan(args) -> int:
    from trials.analysis.goal import GoalRequest, goal_analyses, goal_trials, plan_by_goal
    from trials.reports.contract import goal_plan_dict

    store = open_store()
    start = args.from_date or date.today()
    request = GoalRequest(
        metric="conversions" if args.goal_conversions is not None else "revenue",
        target=float(args.goal_conversions or args.goal_revenue),
        by=args.by,
        start=start,
        channels=tuple(dict.fromkeys(c.strip() for c in args.channels if c.strip())),
        seed=args.seed,
    )
    if request.days < 1:
        raise CliError(
            f"--by {args.by.isoformat()} is before the first day of spending "
            f"{start.isoformat()}: give a later --by (or an earlier --from)"
        )
    trials, currency = goal_trials(store, args.trials, args.currency)
    if not trials and not request.channels:
        raise CliError(
            "no trial with results to plan from"
            + (f" in {currency}" if currency else "")
            + ": run a trial until its arms have conversions, or name --trial"
        )
    if currency is None:
        raise CliError("name the currency to plan untested channels in: --currency CODE")
    analyses = goal_analyses(store, trials, method=args.method, seed=args.seed)
    result = plan_by_goal(store, analyses, request, currency)
    out = goal_plan_dict(result)
    if args.json:
        print_json(out)
    else:
        _print_goal(out)
    return EXIT_OK


def _print_goal(plan: dict) -> None:
    cur = plan["currency"]
    if plan["preview"]:
        print("Preview — planned on the exact preview, not the full model.")
    if plan["reason"]:
        print(plan["reason"])
    for level in plan["plans"]:
        print(level["sentence"])
        if level["reachable"]:
            print_table(
                ["arm", "today a day", "a day", "in total", "expected conversions"],
                [
                    [
                        f"{a['trial']}: {a['channel']} · {a['creative']}"
                        if a["trial"]
                        else f"{a['channel']} (untested)",
                        f"{a['current_daily_spend']:,.2f}",
                        f"{a['daily_spend']:,.2f}",
                        f"{a['spend']:,.2f} {cur}",
                        f"{a['expected_conversions']:,.0f}",
                    ]
                    for a in level["arms"]
                ],
            )
        print()
    if plan["assumptions"]:
        print("Assumes:")
        for line in plan["assumptions"]:
            print(f"  - {line}")
    for line in plan["notes"]:
        print(f"Note: {line}")


def _assurance_plan(args) -> int:
    from inference.planning.plan import PlanError, PlanInputs, PlanRule, plan_trial
    from trials.analysis.planning import workspace_baseline
    from trials.reports.contract import plan_dict

    baseline_cvr, baseline_ctr, cpc = args.baseline_cvr, args.baseline_ctr, args.cpc
    strength = 2000.0
    if args.from_workspace:
        currency = args.currency.strip().upper() if args.currency else None
        found = workspace_baseline(open_store(), currency)
        if found is None:
            raise CliError(
                "--from-workspace: no finished trial in the workspace yet (decided, archived "
                "or past its end date, with data)"
            )
        if cpc is None and found.cpc is None:
            if found.currency is None:
                raise CliError(
                    "--from-workspace: finished trials use several currencies "
                    f"({', '.join(found.currencies)}); name one with --currency, or give --cpc"
                )
            raise CliError(
                f"--from-workspace: no finished trial in {found.currency} to take a cost per "
                f"click from (trials are in {', '.join(found.currencies)}); give --cpc"
            )
        baseline_cvr = baseline_cvr if baseline_cvr is not None else found.cvr
        baseline_ctr = baseline_ctr if baseline_ctr is not None else found.ctr
        cpc = cpc if cpc is not None else found.cpc
        strength = found.strength
    missing = [
        flag for flag, value in (("--baseline-cvr", baseline_cvr), ("--cpc", cpc)) if value is None
    ]
    if args.clicks_per_day is None and args.daily_budget is None:
        missing.append("--clicks-per-day or --daily-budget")
    if missing:
        raise CliError(f"plan needs {', '.join(missing)} (or --from-workspace)")
    try:
        inputs = PlanInputs(
            baseline_cvr=baseline_cvr,
            baseline_ctr=baseline_ctr,
            lift=args.lift,
            arms=args.arms,
            cpc=cpc,
            clicks_per_day=args.clicks_per_day,
            daily_budget=args.daily_budget,
            assurance=args.assurance,
            metric=args.metric,
            budget_cap=args.budget_cap,
            max_days=args.max_days,
            rule=PlanRule(
                min_days=args.min_days,
                min_conversions_per_arm=args.min_conversions,
                probability_threshold=args.probability,
                expected_loss_threshold=args.expected_loss,
            ),
            baseline_strength=strength,
            simulations=args.simulations,
        )
    except PlanError as e:
        raise CliError(f"cannot plan: {e}") from None
    result = plan_dict(plan_trial(inputs, seed=args.seed))
    if args.json:
        print_json(result)
    else:
        _print_plan(result)
    return EXIT_OK


def _print_plan(plan: dict) -> None:
    i = plan["inputs"]
    unit = "impressions" if i["metric"] == "ctr" else "clicks"
    print(
        f"{i['arms']} arms, {plan['clicks_per_arm_per_day']:,.0f} clicks per arm per day "
        f"({i['daily_budget']:,.2f} a day at {i['cpc']:,.2f} per click); design effect "
        f"{plan['design_effect']:.2f} for day-to-day variation."
    )
    if plan["days"] is None:
        print(f"The {i['assurance']:.0%} assurance is not reached within {i['max_days']} days.")
    else:
        print(
            f"{i['assurance']:.0%} assurance: {plan['days']} days, "
            f"{plan['clicks_per_arm_for_assurance']:,.0f} clicks per arm, budget "
            f"{plan['budget']:,.2f}."
        )
    print(
        f"Classical fixed horizon (two-sided 5%, power 80%): "
        f"{plan['classical_clicks_per_arm']:,} {unit} per arm ({plan['classical_days']} days)."
    )
    if i["budget_cap"] is not None and not plan["within_limits"]:
        print(f"Over the budget cap of {i['budget_cap']:,.2f}.")
    if plan["advice"]:
        print("To make it answerable:")
        for a in plan["advice"]:
            where = f": {a['days']} days, budget {a['budget']:,.2f}" if a["days"] else ""
            print(f"  - {a['change']}{where}")
    print()
    print_table(
        ["days", "budget", "assurance", "wrong arm"],
        [
            [p["days"], f"{p['budget']:,.0f}", f"{p['assurance']:.0%}", f"{p['wrong_arm']:.1%}"]
            for p in plan["assurance_curve"]
            if p["days"] in (1, 3, 7, 14, 21, 30, 45, 60, 90, 120) or p["days"] == plan["days"]
        ],
    )
