"""``python -m trials`` (and ``channel-trials``): the command-line interface.

Commands, flags and JSON field names are a product interface: add, never rename.
The database comes from ``DATABASE_URL``, else ``TRIALS_DB`` (an SQLite file), else the
app's data directory; migrations are applied on start. Errors go to stderr with exit
code 1 (2 for a malformed command line), and user mistakes never print a traceback.
Each command lives in a module of its own; they share ``trials.cli.common``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from trials.cli.amend import add_amend_commands
from trials.cli.analyze import add_analyze_command
from trials.cli.common import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from trials.cli.data import add_data_commands
from trials.cli.decisions import add_decision_commands
from trials.cli.plan import add_plan_command
from trials.cli.registry import (
    add_housekeeping_commands,
    add_migrate_command,
    add_registry_commands,
)
from trials.cli.sources import add_source_commands
from trials.domain import TrialValidationError, UserError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except TrialValidationError as e:
        where = f"{args.from_file}: " if getattr(args, "from_file", None) else ""
        print(f"error: {where}the trial is not valid:", file=sys.stderr)
        for problem in e.problems:
            print(f"  - {problem.field}: {problem.message}", file=sys.stderr)
        return EXIT_ERROR
    except UserError as e:
        # A database fault's detail names the database (the app shows it without).
        print(f"error: {getattr(e, 'detail', e)}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # e.g. `python -m trials list | head`
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trials",
        description="Channel Trials: register trials, load data, and read results.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_registry_commands(sub)
    add_analyze_command(sub)
    add_data_commands(sub)
    add_source_commands(sub)
    add_decision_commands(sub)
    add_amend_commands(sub)
    add_housekeeping_commands(sub)
    add_plan_command(sub)
    add_migrate_command(sub)
    return parser
