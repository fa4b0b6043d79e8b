"""``python -m trials`` commands that bring data in: import, orders, imports and undo.
Errors go to stderr with exit 1; ``--json`` prints the preview and outcome."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from trials.cli.common import EXIT_ERROR, EXIT_OK, open_store, print_table
from trials.domain import UserError

__all__ = ["add_data_commands"]


def add_data_commands(sub) -> None:
    p = sub.add_parser(
        "import",
        help="import daily results from a CSV, TSV or XLSX export (checked, all or nothing)",
        description="Reads Google Ads, Meta Ads and generic exports in English or Chinese. "
        "Every problem is listed with its row and column; nothing is written unless the "
        "whole file is good. Importing the same rows again changes nothing.",
    )
    p.add_argument("trial", metavar="TRIAL", help="the trial's name or id")
    p.add_argument("file", metavar="FILE", help="the export (.csv, .tsv, .txt or .xlsx)")
    _reading_flags(p)
    p.add_argument(
        "--preset",
        default="auto",
        choices=["auto", "generic", "google-ads", "meta-ads"],
        help="the platform the file comes from (default: recognised from its headers)",
    )
    p.add_argument(
        "--channel", metavar="NAME", help="every row is this channel (file has no channel column)"
    )
    p.add_argument(
        "--add-arms", action="store_true", help="add arms the file names that the trial lacks"
    )
    p.set_defaults(run=_import)

    p = sub.add_parser(
        "orders",
        help="import the shop's own orders (order id, time, amount, status, UTM values)",
    )
    p.add_argument("trial", metavar="TRIAL")
    p.add_argument("file", metavar="FILE")
    _reading_flags(p)
    p.add_argument(
        "--accept-effect",
        action="store_true",
        help="import even though the file changes the conversions the results use a lot "
        "(without it such an import is refused)",
    )
    p.set_defaults(run=_orders)

    p = sub.add_parser("imports", help="list a trial's imports (who, when, file, rows)")
    p.add_argument("trial", metavar="TRIAL")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_imports)

    p = sub.add_parser("undo", help="undo one import: its rows go, rows it replaced come back")
    p.add_argument("trial", metavar="TRIAL")
    p.add_argument("batch", metavar="IMPORT", type=int, help="the import's number (see imports)")
    p.set_defaults(run=_undo)


def _reading_flags(p) -> None:
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="read FIELD from COLUMN (header text or 1-based number); repeatable",
    )
    p.add_argument("--decimal", choices=[",", "."], help="the decimal mark (default: detected)")
    p.add_argument("--date-format", metavar="FMT", help="e.g. %%d/%%m/%%Y (default: detected)")
    p.add_argument("--dry-run", action="store_true", help="check and preview; write nothing")
    p.add_argument("--replace", action="store_true", help="replace stored rows the file changes")
    p.add_argument("--json", action="store_true", help="print the preview and outcome as JSON")


def _options(args):
    from trials.ingest.reading import ImportOptions

    mapping = {}
    for item in args.map:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise UserError(f"--map {item}: write FIELD=COLUMN, e.g. --map spend='Amount spent'")
        mapping[field.strip()] = column.strip()
    return ImportOptions(
        preset=getattr(args, "preset", "auto"),
        mapping=mapping,
        decimal=args.decimal,
        date_format=args.date_format,
        channel=getattr(args, "channel", None),
    )


def _read(path_text: str) -> bytes:
    path = Path(path_text)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    return path.read_bytes()


def _report_reading(reading, as_json: bool) -> None:
    if as_json:
        return
    mapping = reading.columns.as_dict() if reading.columns else {}
    print(f"{reading.file_name}: {reading.format_label}; header on row {reading.header_row}")
    if mapping:
        print("columns: " + ", ".join(f"{f} ← '{h}'" for f, h in mapping.items()))
    for row, why in reading.skipped:
        print(f"skipped row {row}: {why}")
    for w in reading.warnings:
        print(f"warning: {w}")


def _fail_with_problems(reading, as_json: bool, outcome: dict) -> int:
    if as_json:
        print(json.dumps(outcome, indent=2, ensure_ascii=False))
    print(
        f"error: {reading.file_name} has {len(reading.errors)} problems; nothing was written",
        file=sys.stderr,
    )
    for problem in reading.errors:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_ERROR


def _import(args) -> int:
    from trials.analysis.importing import commit_import, preview_import
    from trials.reports.contract import import_preview_dict

    store = open_store()
    trial = store.get_trial(args.trial)
    if not args.dry_run:
        store.require_write("import data")  # before reading the file (a preview may read)
    preview = preview_import(store, trial, _read(args.file), Path(args.file).name, _options(args))
    out = import_preview_dict(preview)
    reading = preview.reading
    _report_reading(reading, args.json)
    if not reading.ok:
        return _fail_with_problems(reading, args.json, out)
    plan = preview.plan
    if not args.json:
        c = plan.counts()
        print(
            f"{len(reading.rows)} rows: {c['new']} new, {c['changed']} change stored numbers, "
            f"{c['unchanged']} already stored"
        )
        for change in plan.of("changed"):
            print(
                f"  row {change.row.row}: {change.row.arm_name} {change.row.day} "
                f"{_numbers_text(change.old)} → {_numbers_text(change.row)}"
            )
        if plan.unknown_arms:
            names = ", ".join(f"{c} · {k}" for c, k in plan.unknown_arms)
            print(f"arms not in the trial: {names}" + ("" if args.add_arms else " (--add-arms)"))
    return _write_unless_dry_run(
        args,
        out,
        lambda: commit_import(store, trial, preview, replace=args.replace, add_arms=args.add_arms),
        "rows",
    )


def _write_unless_dry_run(args, out: dict, commit, what: str) -> int:
    from trials.domain.imports import OverlapError
    from trials.ingest.daily import outcome_line

    as_json = args.json
    if args.dry_run:
        out["written"] = False
        if as_json:
            print(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            print("dry run: nothing was written")
        return EXIT_OK
    try:
        outcome = commit()
    except OverlapError as e:
        raise UserError(str(e)) from e
    out["written"] = not outcome.changed_nothing
    out["import"] = outcome.batch.id if outcome.batch else None
    out["added_arms"] = list(outcome.added_arms)
    if as_json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        for name in outcome.added_arms:
            print(f"added arm: {name}")
        print(outcome_line(outcome, what))
    return EXIT_OK


def _orders(args) -> int:
    from trials.analysis.importing import commit_orders, preview_orders
    from trials.reports.contract import orders_preview_dict

    store = open_store()
    trial = store.get_trial(args.trial)
    if not args.dry_run:
        store.require_write("import orders")
    preview = preview_orders(store, trial, _read(args.file), Path(args.file).name, _options(args))
    out = orders_preview_dict(preview)
    reading = preview.reading
    _report_reading(reading, args.json)
    if not reading.ok:
        return _fail_with_problems(reading, args.json, out)
    if not args.json:
        c = preview.plan.counts()
        print(
            f"{len(reading.orders)} order rows: {c['new']} new, {c['changed']} change stored "
            f"orders, {c['unchanged']} already stored"
        )
        _report_effect(preview.effect)
    if preview.needs_confirmation and not args.accept_effect and not args.dry_run:
        out["written"] = False
        if args.json:
            print(json.dumps(out, indent=2, ensure_ascii=False))
        changed = preview.plan.counts()["changed"]
        also = (
            f" (and --replace for the {changed} orders stored with other values)"
            if changed and not args.replace
            else ""
        )
        print(
            f"error: {preview.effect_warning} Nothing was written; to import anyway, add "
            f"--accept-effect{also}.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return _write_unless_dry_run(
        args,
        out,
        lambda: commit_orders(store, trial, preview, replace=args.replace),
        "order rows",
    )


def _report_effect(effect) -> None:
    """Per arm, the conversions (and revenue) the models read now and after the import."""
    if effect is None or not effect.changes:
        return
    words = {"channel": "channel reports", "orders": "own orders"}
    print(
        f"conversions and revenue the results use: {words[effect.source_before.value]} "
        f"→ {words[effect.source_after.value]}"
    )
    for a in effect.arms:
        print(
            f"  {a.arm}: {a.conversions_before:,} → {a.conversions_after:,} conversions, "
            f"revenue {a.revenue_before:,.2f} → {a.revenue_after:,.2f}"
            + ("  (big change)" if a.flagged else "")
        )
    if effect.warning:
        print(f"warning: {effect.warning}")


def _imports(args) -> int:

    store = open_store()
    trial = store.get_trial(args.trial)
    from trials.reports.contract import batch_dict

    batches = [batch_dict(b) for b in store.import_batches(trial.id)]
    if args.json:
        print(json.dumps(batches, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not batches:
        print(f"no imports yet for '{trial.name}'")
        return EXIT_OK
    print_table(
        ["import", "kind", "file", "rows", "status", "when", "who"],
        [
            [
                b["import"],
                b["kind"],
                b["file"] or "-",
                b["rows"],
                b["status"],
                b["created_at"][:16].replace("T", " "),
                b["created_by"],
            ]
            for b in batches
        ],
    )
    return EXIT_OK


def _undo(args) -> int:
    store = open_store()
    trial = store.get_trial(args.trial)
    batch = store.undo_batch(trial.id, args.batch)
    print(f"undid import {batch.id} ({batch.file_name or batch.kind}) in '{trial.name}'")
    return EXIT_OK


def _numbers_text(r) -> str:
    return (
        f"{r.impressions:,} impr., {r.clicks:,} clicks, {r.conversions:,} conv., "
        f"spend {r.spend:,.2f}, revenue {r.revenue:,.2f}"
    )
