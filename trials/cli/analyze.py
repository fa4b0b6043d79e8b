"""``python -m trials analyze``: the posterior funnel, ROAS and CPA per arm, the verdict and
each arm's recommendation (with ``--budget``, the next round's split)."""

from __future__ import annotations

from typing import Any

from trials.cli.common import EXIT_OK, CliError, open_store, print_json, print_table

__all__ = ["add_analyze_command", "full_analysis"]


def add_analyze_command(sub) -> None:
    p = sub.add_parser("analyze", help="posterior funnel, ROAS and CPA per arm")
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--method",
        choices=["mcmc", "exact"],
        default="mcmc",
        help="mcmc: the full model and its verdict (default); exact: a preview in a fraction "
        "of a second (exact figures for a simpler model; no verdict, no budget split)",
    )
    p.add_argument("--pooling", choices=["partial", "none"], default="partial")
    p.add_argument(
        "--no-overdispersion",
        action="store_true",
        help="treat daily counts as binomial (no extra day-to-day variation)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output)")
    p.add_argument(
        "--round",
        type=int,
        metavar="N",
        help="a trial in rounds: analyse round N (default: the current round)",
    )
    p.add_argument(
        "--budget", type=float, metavar="N", help="split N over the arms for the next round"
    )
    p.add_argument("--min-per-arm", type=float, default=0.0, metavar="X", help="with --budget")
    p.add_argument("--max-per-arm", type=float, metavar="Y", help="with --budget")
    p.add_argument(
        "--risk",
        type=float,
        default=0.5,
        metavar="L",
        help="with --budget: weight on the worst 10%% of outcomes (0 = expected profit only)",
    )
    p.set_defaults(run=_analyze)


def _analyze(args) -> int:
    result = full_analysis(
        args, budget=args.budget, low=args.min_per_arm, high=args.max_per_arm, risk=args.risk
    )
    if args.json:
        print_json(result)
        return EXIT_OK
    _print_analysis(result, result["currency"])
    return EXIT_OK


def full_analysis(args, **allocation) -> dict[str, Any]:
    """Everything ``analyze --json`` prints for ``args.trial`` with the flags' settings."""
    from inference.funnel.fit import FitError
    from inference.funnel.spec import ModelSpec
    from trials.analysis import result
    from trials.analysis.priors import trial_model_spec

    store = open_store()
    trial = store.get_trial(args.trial).in_round(getattr(args, "round", None))
    spec = ModelSpec.from_dict(
        {"pooling": args.pooling, "overdispersion": not args.no_overdispersion}
    )
    # A trial that opted in to priors learned from past trials (``priors --trial``).
    choice = trial_model_spec(store, trial, spec)
    try:
        out = result.full_analysis(
            store, trial, method=args.method, spec=choice.spec, seed=args.seed, **allocation
        )
        if choice.note:
            out["notes"] = [*out.get("notes", []), choice.note]
        return out
    except FitError as e:
        raise CliError(f"could not fit '{trial.name}': {e}") from e
    except ValueError as e:
        raise CliError(str(e)) from e


def _print_analysis(result: dict, currency: str) -> None:
    _print_estimates(result, currency)
    _print_notes(result)
    if result.get("preview"):
        _print_preview(result)
        return
    decision = result["decision"]
    print(f"VERDICT: {decision['verdict_label']}. {decision['reason']}")
    for a in result["arms"]:
        print(f"{a['recommendation_label'].upper()}: {a['reason']}")
        if "response_curve" in a:
            print(f"  spend: {a['response_curve']['advice']}")
    allocation = result.get("allocation")
    if allocation:
        _print_allocation(allocation, currency)


def _print_estimates(result: dict, currency: str) -> None:
    """The heading and each arm's funnel, ROAS and CPA with their HDIs."""
    hdi = f"{result['hdi_prob']:.0%} HDI"
    print(f"{result['trial']}: {result['method']} posterior, pooling {result['pooling']} ({hdi})")
    if result["rounds"] > 1:
        print(
            f"round {result['round']} of {result['rounds']}: {result['round_start']} to "
            f"{result['round_end']}"
        )

    def cell(m: dict, fmt: str) -> str:
        if m["mean"] is None:
            return m.get("reason", "-")
        return f"{m['mean']:{fmt}} [{m['hdi_low']:{fmt}}, {m['hdi_high']:{fmt}}]"

    print_table(
        ["arm", "CTR", "CVR", "ROAS", f"CPA ({currency})"],
        [
            [
                f"{a['channel']} · {a['creative']}",
                cell(a["ctr"], ".2%"),
                cell(a["cvr"], ".2%"),
                cell(a["roas"], ".2f"),
                cell(a["cpa"], ",.2f"),
            ]
            for a in result["arms"]
        ],
    )


def _print_notes(result: dict) -> None:
    """The diagnostics, the model's and the arms' notes, and where the numbers come from."""
    d = result["diagnostics"]
    if result["method"] == "mcmc":
        state = "reliable" if d["reliable"] else "NOT reliable: " + "; ".join(d["reasons"])
        print(
            f"diagnostics: R-hat max {d['r_hat_max']}, ESS bulk min {d['ess_bulk_min']}, "
            f"tail min {d['ess_tail_min']}, divergences {d['divergences']} -> {state}"
        )
    elif not d["reliable"]:
        print("note: " + "; ".join(d["reasons"]))
    for note in result["notes"]:
        print(f"note: {note}")
    for a in result["arms"]:
        arm_notes = {a[m]["note"] for m in ("ctr", "cvr", "roas", "cpa") if a[m].get("note")}
        for note in sorted(arm_notes):
            print(f"note: {a['channel']} · {a['creative']}: {note}")
    print(f"conversions and revenue from: {result['results_source']}")
    print(result["source"]["sentence"])
    print(result["raw_vs_model"])


def _print_preview(result: dict) -> None:
    """The exact preview's label and each arm's chance to be best (no verdict)."""
    print(f"PREVIEW: {result['preview_note']}")
    for a in result["arms"]:
        if a["p_best"] is not None:
            print(f"  {a['channel']} · {a['creative']}: {a['p_best']:.1%} chance to be best")


def _print_allocation(allocation: dict, currency: str) -> None:
    """The next round's split beside today's, its notes and each arm's budget."""
    print(
        f"next round, {allocation['total_budget']:,.2f} of "
        f"{allocation['offered_budget']:,.2f} {currency}: expected revenue "
        f"{allocation['expected_revenue']:,.2f}, profit {allocation['expected_profit']:,.2f} "
        f"(today's split of the whole budget: {allocation['current_expected_profit']:,.2f}); "
        f"P(loss) {allocation['p_loss']:.0%} (today's split {allocation['current_p_loss']:.0%})"
    )
    for note in allocation["notes"]:
        print(f"  {note}")
    print_table(
        ["arm", "budget", "today's split", "expected revenue"],
        [
            [
                f"{a['channel']} · {a['creative']}",
                f"{a['budget']:,.2f}",
                f"{a['current_budget']:,.2f}",
                f"{a['expected_revenue']:,.2f}",
            ]
            for a in allocation["arms"]
        ],
    )
