"""``python -m trials plan``: size a trial before it runs."""

from __future__ import annotations

from trials.cli.common import EXIT_OK, CliError, fraction, open_store, print_json, print_table

__all__ = ["add_plan_command"]


def add_plan_command(sub) -> None:
    p = sub.add_parser(
        "plan",
        help="size a trial before it runs: assurance, days, budget, classical sample size",
        description="Bayesian assurance that the decision rule is met, from a design prior on "
        "the baseline and the lift. Rates and lifts take 0.03 or 3%%.",
    )
    p.add_argument("--baseline-cvr", type=fraction, metavar="P", help="conversions per click")
    p.add_argument(
        "--lift", type=fraction, required=True, metavar="L", help="smallest lift worth finding"
    )
    p.add_argument("--arms", type=int, required=True, metavar="K", help="arms, control included")
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
        help="with --from-workspace: the currency whose cost per click to use (money is "
        "never mixed across currencies; needed when finished trials use several)",
    )
    p.add_argument("--simulations", type=int, default=400, help="simulated trials (default 400)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_plan)


def _plan(args) -> int:
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
