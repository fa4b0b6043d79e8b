"""Commands on the trial registry: demo, list, create, show, archive, delete, migrate."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from trials.cli.common import (
    EXIT_OK,
    OWN,
    CliError,
    open_engine,
    open_store,
    print_json,
    print_table,
    read_trial_file,
)
from trials.domain import TrialStatus

__all__ = ["add_housekeeping_commands", "add_migrate_command", "add_registry_commands"]


def add_registry_commands(sub) -> None:
    """demo, list, create and show."""
    p = sub.add_parser(
        "demo",
        help="load the demo trials (skips any already loaded); with no account yet, first "
        "make a local demo administrator and say how to sign in",
        description="For trying the app on this computer (make app runs it). With no "
        "account yet it creates the site administrator 'demo' with a random password, "
        "kept in first-sign-in.txt (readable by you only) in the data folder, and prints "
        "how to sign in; later runs print it again while that password still works. "
        "Change the password before anyone else can reach the app.",
    )
    p.add_argument("--today", type=date.fromisoformat, help="date the demo as if today were this")
    p.add_argument(
        "--if-empty",
        action="store_true",
        help="load only if the workspace has no trials at all (and only note it, without "
        "failing, when there is no account to load them as)",
    )
    p.add_argument("--json", action="store_true", help="print what was loaded as JSON")
    p.set_defaults(run=_demo, identity=OWN)

    p = sub.add_parser("list", help="list the workspace's trials")
    p.add_argument(
        "--status",
        action="append",
        choices=[s.value for s in TrialStatus],
        help="only trials with this status (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_list)

    p = sub.add_parser("create", help="register a trial from a JSON or TOML file")
    p.add_argument("--from-file", required=True, metavar="FILE", help="FILE.json or FILE.toml")
    p.add_argument("--json", action="store_true", help="print the created trial as JSON")
    p.set_defaults(run=_create)

    p = sub.add_parser("show", help="show one trial (by name or id) with its arms' totals")
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_show)


def add_housekeeping_commands(sub) -> None:
    """archive and delete."""
    p = sub.add_parser("archive", help="archive a trial (keeps all its data)")
    p.add_argument("trial", metavar="TRIAL")
    p.set_defaults(run=_archive)

    p = sub.add_parser(
        "delete",
        help="delete a demo trial, or a trial without results, orders or decisions "
        "(others: archive)",
    )
    p.add_argument("trial", metavar="TRIAL", nargs="?")
    p.add_argument("--all-demo", action="store_true", help="delete every demo trial")
    p.set_defaults(run=_delete)


def add_migrate_command(sub) -> None:
    p = sub.add_parser("migrate", help="bring the database schema up to date and say where it is")
    p.set_defaults(run=_migrate, identity=OWN)


def _demo(args) -> int:
    from trials.analysis.accounts import (
        DEMO_USER,
        ensure_demo_admin,
        only_the_demo_administrator,
    )
    from trials.analysis.demo import load_demo
    from trials.domain import UserError
    from trials.storage.engine import data_dir, database_url, describe

    engine = open_engine()
    sign_in = ensure_demo_admin(engine, data_dir(), describe(database_url()))
    if sign_in is not None:
        _print_sign_in(sign_in, sys.stderr if args.json else sys.stdout)
    try:
        # While the demo sign-in works (or demo is the only account: a first start beside
        # this one made it), the demo is loaded as demo, unless --as says otherwise.
        as_demo = sign_in is not None or (args.if_empty and only_the_demo_administrator(engine))
        store = open_store(DEMO_USER if as_demo else None)
        if args.if_empty and not store.is_empty():
            print("the workspace has trials already; no demo data loaded")
            return EXIT_OK
        store.require_write("load demo trials")
    except UserError as e:
        if not args.if_empty:
            raise
        # `make app` runs this on every start: say why, but let the app start.
        print(f"note: no demo trials loaded: {e}", file=sys.stderr)
        return EXIT_OK
    report = load_demo(store, today=args.today)
    if args.json:
        print_json({"created": list(report.created), "skipped": list(report.skipped)})
        return EXIT_OK
    for name in report.created:
        print(f"loaded demo trial: {name}")
    for name in report.skipped:
        print(f"already there, left as it is: {name}")
    return EXIT_OK


def _print_sign_in(sign_in, out) -> None:
    print(sign_in.hint, file=out)
    if sign_in.created and sign_in.path is not None:
        print(
            f"(the password is kept in {sign_in.path}, readable by you only. The demo "
            "administrator is for trying the app on this computer: before anyone else can "
            "reach it, change the password or add real accounts and disable demo.)",
            file=out,
        )
    elif sign_in.created:
        print("(it could not be saved in the data folder: note it now)", file=out)


def _list(args) -> int:
    from trials.reports.contract import summary_dict

    summaries = open_store().list_trials(statuses=args.status)
    rows = [summary_dict(s) for s in summaries]
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print("no trials yet: `python -m trials demo` loads demo trials")
        return EXIT_OK
    print_table(
        ["id", "name", "status", "arms", "days", "spend / budget", "last data"],
        [
            [
                r["id"],
                r["name"] + (" (demo)" if r["is_demo"] else ""),
                r["status"],
                r["arms"],
                r["days_with_data"],
                f"{r['spend']:,.2f} / {r['budget']:,.2f} {r['currency']}",
                r["last_data_date"] or "-",
            ]
            for r in rows
        ],
    )
    return EXIT_OK


def _create(args) -> int:
    from trials.domain import TrialSpec
    from trials.reports.contract import trial_dict

    values = read_trial_file(Path(args.from_file))
    store = open_store()
    trial = store.create_trial(TrialSpec.build(**values))
    if args.json:
        print_json(trial_dict(trial, store.arm_totals(trial.id)))
    else:
        print(f"created trial '{trial.name}' (id {trial.id}) with {len(trial.arms)} arms")
    return EXIT_OK


def _show(args) -> int:
    from trials.analysis.sources import order_totals
    from trials.domain.amendments import amendment_lines
    from trials.reports.contract import amendment_dict, trial_dict

    store = open_store()
    trial = store.get_trial(args.trial)
    amendments = store.amendments(trial.id)
    data = trial_dict(trial, store.arm_totals(trial.id), order_totals(store, trial))
    data["amendments"] = [amendment_dict(a) for a in amendments]
    if args.json:
        print_json(data)
        return EXIT_OK
    demo = ", demo" if data["is_demo"] else ""
    print(f"{data['name']}  [{data['status']}{demo}]  id {data['id']}")
    if data["hypothesis"]:
        print(f"hypothesis: {data['hypothesis']}")
    print(
        f"primary metric: {data['primary_metric']}; break-even ROAS {data['break_even_roas']:g}; "
        f"{data['start']} to {data['end']}; budget {data['budget']:,.2f} {data['currency']}"
    )
    print_table(
        ["arm", "control", "impressions", "clicks", "conversions", "spend", "revenue", "days"],
        [
            [
                a["name"],
                "yes" if a["control"] else "",
                f"{a['totals']['impressions']:,}",
                f"{a['totals']['clicks']:,}",
                f"{a['totals']['conversions']:,}",
                f"{a['totals']['spend']:,.2f}",
                f"{a['totals']['revenue']:,.2f}",
                a["totals"]["days"],
            ]
            for a in data["arms"]
        ],
    )
    for r in data["rounds"]:
        changed = [f"{x['before']} → {x['after']}" for x in r["replaced"]]
        changed += [f"added {n}" for n in r["added"]] + [f"dropped {n}" for n in r["dropped"]]
        current = " (current)" if r["number"] == data["round"] else ""
        print(
            f"round {r['number']}{current}: {r['start']} to {r['end']}, budget "
            f"{r['budget']:,.2f} {data['currency']}; arms {', '.join(r['arms'])}"
            + (f"; {', '.join(changed)}" if changed else "")
            + (f" — {r['reason']}" if r["reason"] else "")
        )
    if data["rounds"]:
        print("(the arms' totals above are over every round; analyze --round N reads one)")
    if amendments:
        print(f"amendments to the pre-registered plan (rule version {trial.rule_version}):")
        for line in amendment_lines(amendments):
            print(f"  - {line}")
    return EXIT_OK


def _archive(args) -> int:
    store = open_store()
    trial = store.archive(store.get_trial(args.trial).id)
    print(f"archived '{trial.name}'")
    return EXIT_OK


def _delete(args) -> int:
    store = open_store()
    if args.all_demo == bool(args.trial):
        raise CliError("name one TRIAL, or give --all-demo")
    if args.all_demo:
        outcome = store.delete_demo_trials()
        print(f"deleted {len(outcome.deleted)} demo trials")
        for name in outcome.deleted:
            print(f"  deleted: {name}")
        for name, why in outcome.kept:
            print(f"kept demo trial '{name}': {why}")
        return EXIT_OK
    trial = store.get_trial(args.trial)
    store.delete_trial(trial.id)
    print(f"deleted '{trial.name}'")
    return EXIT_OK


def _migrate(_args) -> int:
    from trials.storage.engine import connect, database_url, describe, schema_revision

    url = database_url()
    print(f"database {describe(url)} is at schema revision {schema_revision(connect(url))}")
    return EXIT_OK
