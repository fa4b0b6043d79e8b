"""Commands on where a trial's conversions and revenue come from: utm (the rules that send
own orders to arms), reconcile (channels' reports beside own orders) and set (how a trial
counts orders)."""

from __future__ import annotations

from trials.cli.common import EXIT_OK, find_arm, open_store, print_json, print_table
from trials.domain import AttributionRule, ResultsChoice, UserError

__all__ = ["add_source_commands"]


def add_source_commands(sub) -> None:
    """utm, reconcile and set."""
    p = sub.add_parser(
        "utm",
        help="list the UTM rules that send orders to arms, or add one (with --arm)",
    )
    p.add_argument("trial", metavar="TRIAL")
    for name in ("source", "medium", "campaign", "content"):
        p.add_argument(f"--{name}", default="", help=f"utm_{name} value (blank: any)")
    p.add_argument("--arm", metavar="ARM", help="'Channel · Creative' or 'Channel/Creative'")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_utm)

    p = sub.add_parser(
        "reconcile", help="channel-reported conversions and revenue per arm vs own orders"
    )
    p.add_argument("trial", metavar="TRIAL")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_reconcile)

    p = sub.add_parser("set", help="change how a trial counts orders")
    p.add_argument("trial", metavar="TRIAL")
    p.add_argument(
        "--attribution",
        choices=[r.value for r in AttributionRule],
        help="an order several arms claim: last_touch (default) or split",
    )
    p.add_argument(
        "--results-source",
        choices=[r.value for r in ResultsChoice],
        help="conversions and revenue the models read: auto (own orders once they give a "
        "conversion within the trial's dates), channel or orders",
    )
    p.set_defaults(run=_set)


def _utm(args) -> int:
    from trials.domain.imports import UtmRule
    from trials.reports.contract import utm_rule_dict

    store = open_store()
    trial = store.get_trial(args.trial)
    if args.arm:
        arm = find_arm(trial, args.arm)
        store.save_utm_rules(
            trial.id, [UtmRule(args.source, args.medium, args.campaign, args.content, arm.id)]
        )
    rules = [utm_rule_dict(trial, r) for r in store.utm_rules(trial.id)]
    if args.json:
        print_json(rules)
        return EXIT_OK
    if not rules:
        print(
            "no UTM rules: orders go to the arm whose channel is their utm_source and whose "
            "creative is their utm_content"
        )
    for r in rules:
        values = "/".join(r[k] or "*" for k in ("utm_source", "utm_medium", "utm_campaign"))
        print(f"{values}/{r['utm_content'] or '*'} → {r['arm']}")
    return EXIT_OK


def _reconcile(args) -> int:
    from trials.analysis.sources import reconcile
    from trials.reports.contract import reconciliation_dict

    store = open_store()
    trial = store.get_trial(args.trial)
    result = reconcile(store, trial)
    data = reconciliation_dict(result, trial)
    if args.json:
        print_json(data)
        return EXIT_OK
    print(
        f"{trial.name}: models read {data['source_in_use']} conversions and revenue "
        f"(setting: {data['results_source']}); attribution {data['attribution_rule']}"
    )
    print(data["source_summary"]["sentence"])

    def pct(value):
        return "-" if value is None else f"{value:+.0%}"

    print_table(
        [
            "arm",
            "conv. channel",
            "conv. orders",
            "diff",
            "revenue channel",
            "revenue orders",
            "diff",
        ],
        [
            [
                a["arm"],
                a["channel_conversions"],
                a["order_conversions"],
                f"{a['conversions_difference']:+d} ({pct(a['conversions_difference_pct'])})",
                f"{a['channel_revenue']:,.2f}",
                f"{a['order_revenue']:,.2f}",
                f"{a['revenue_difference']:+,.2f} ({pct(a['revenue_difference_pct'])})",
            ]
            for a in data["arms"]
        ],
    )
    for status, v in data["excluded"].items():
        print(f"left out, {status}: {v['orders']} orders, {v['amount']:,.2f}")
    for s in data["shared_orders"]:
        credited = ", ".join(f"{c['arm']} {c['share']:.2g}" for c in s["credited"])
        print(f"order {s['order_id']} claimed by {', '.join(s['arms'])}: counted once ({credited})")
    for u in data["unattributed"]:
        print(
            f"not matched to an arm: utm_source={u['utm_source'] or '-'} "
            f"utm_content={u['utm_content'] or '-'}: {u['orders']} orders, {u['amount']:,.2f} "
            "(add a rule: python -m trials utm TRIAL --source … --content … --arm …)"
        )
    if data["outside_dates"]["orders"]:
        print(f"outside the trial's dates: {data['outside_dates']['orders']} orders")
    return EXIT_OK


def _set(args) -> int:
    store = open_store()
    trial = store.get_trial(args.trial)
    changes = {}
    if args.attribution:
        changes["attribution_rule"] = AttributionRule(args.attribution)
    if args.results_source:
        changes["results_source"] = ResultsChoice(args.results_source)
    if not changes:
        raise UserError("nothing to change: give --attribution or --results-source")
    trial = store.update_trial(
        trial.id, trial.spec.with_changes(**changes), [a.id for a in trial.arms]
    )
    print(
        f"'{trial.name}': attribution {trial.spec.attribution_rule.value}, results source "
        f"{trial.spec.results_source.value}"
    )
    return EXIT_OK
