"""``python -m trials`` (and ``channel-trials``): the command-line interface.

Commands, flags and JSON field names are a product interface: add, never rename.
The database comes from ``DATABASE_URL``, else ``TRIALS_DB`` (an SQLite file), else the
app's data directory; migrations are applied on start. Errors go to stderr with exit
code 1 (2 for a malformed command line), and user mistakes never print a traceback.
Each command lives in a module of its own; they share ``trials.cli.common``.

Every command acts as an account: ``--as USER`` (before or after the command), else
``TRIALS_USER``, else the operating-system user; it must exist and be enabled, and the
commands on trials act in one workspace it is a member of (``--workspace NAME``, else
Default if a member, else its only one) with its role there (viewers only read). With no
account yet, every command but ``user add NAME --admin`` (the first administrator),
``demo`` (a local demo administrator) and ``migrate`` says how to make the first one.
The command line does not ask for a password: whoever can open the database can act as
any account, so the database's own access (file permissions, credentials) guards it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from trials.cli.accounts import add_account_commands
from trials.cli.amend import add_amend_commands
from trials.cli.analyze import add_analyze_command
from trials.cli.common import (
    ACCOUNT,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    WORKSPACE,
    acting_user,
    invocation,
    open_store,
)
from trials.cli.data import add_data_commands
from trials.cli.decisions import add_decision_commands
from trials.cli.plan import add_plan_command
from trials.cli.portfolio import add_portfolio_commands
from trials.cli.priors import add_priors_command
from trials.cli.registry import (
    add_housekeeping_commands,
    add_migrate_command,
    add_registry_commands,
)
from trials.cli.rounds import add_round_commands
from trials.cli.scale import add_scale_command
from trials.cli.segments import add_segments_command
from trials.cli.sources import add_source_commands
from trials.domain import TrialValidationError, UserError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None) or not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with invocation(args):
            _check_identity(args)
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


def _check_identity(args) -> None:
    """Before any command runs: the account it acts as exists, is enabled and (for the
    commands on trials) is a member of the workspace. Commands on accounts need the
    account only; ``user add``, ``user passwd``, ``demo`` and ``migrate`` check for
    themselves (the first administrator, one's own password, the demo administrator)."""
    needs = getattr(args, "identity", WORKSPACE)
    if needs == WORKSPACE or (needs == ACCOUNT and getattr(args, "workspace", None)):
        open_store()
    elif needs == ACCOUNT:
        acting_user()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trials",
        description="Channel Trials: register trials, load data, and read results. "
        "Every command acts as an account (--as USER, else TRIALS_USER, else the "
        "operating-system user) in one of its workspaces (--workspace NAME, else Default "
        "or its only one).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_registry_commands(sub)
    add_analyze_command(sub)
    add_segments_command(sub)
    add_data_commands(sub)
    add_source_commands(sub)
    add_decision_commands(sub)
    add_round_commands(sub)
    add_portfolio_commands(sub)
    add_amend_commands(sub)
    add_scale_command(sub)
    add_housekeeping_commands(sub)
    add_plan_command(sub)
    add_priors_command(sub)
    add_migrate_command(sub)
    add_account_commands(sub)
    add_identity_flags(parser, top=True)
    return parser


def add_identity_flags(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--as`` and ``--workspace`` on ``parser`` and every command under it, so they may
    be given before or after the command. Under a command they default to "not given"
    (SUPPRESS), so they never undo the same flag given before it."""
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--as",
        dest="as_user",
        metavar="USER",
        default=default,
        help="act as this account (default: TRIALS_USER, else the operating-system user)",
    )
    parser.add_argument(
        "--workspace",
        metavar="NAME",
        default=default,
        help="the workspace to act in (default: Default if a member, else the only one)",
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                add_identity_flags(child)
