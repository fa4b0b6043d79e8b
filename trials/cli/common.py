"""What every command shares: who it acts as and the store it opens (``--as``,
``--workspace``), errors, JSON and table output, reading arms, shares and trial files.
Commands, flags and JSON field names are a product interface: add, never rename."""

from __future__ import annotations

import argparse
import errno
import json
import os
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trials.domain import UserError, arm_key

__all__ = [
    "ACCOUNT",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_USAGE",
    "OWN",
    "WORKSPACE",
    "CliError",
    "Invocation",
    "acting_name",
    "acting_user",
    "find_arm",
    "fraction",
    "invocation",
    "open_engine",
    "open_store",
    "print_json",
    "print_table",
    "read_trial_file",
    "write_file",
]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
# What a command needs before it runs (``set_defaults(identity=…)``; main checks it):
# WORKSPACE (the default): an account that is a member of the workspace; ACCOUNT: an
# enabled account; OWN: nothing, the command checks for itself.
WORKSPACE, ACCOUNT, OWN = "workspace", "account", "own"


class CliError(UserError):
    pass


@dataclass
class Invocation:
    """Who this command acts as and where: ``--as`` (None: not given), ``--workspace``.
    Set by ``main`` for the length of one command; the engine and store open once."""

    as_user: str | None = None
    workspace: str | None = None
    engine: Any = None
    store: Any = None


_INVOCATION: ContextVar[Invocation | None] = ContextVar("trials_cli_invocation", default=None)


@contextmanager
def invocation(args: argparse.Namespace) -> Iterator[Invocation]:
    """Run one command as ``args.as_user`` in ``args.workspace``."""
    current = Invocation(
        as_user=_blank_to_none(getattr(args, "as_user", None)),
        workspace=_blank_to_none(getattr(args, "workspace", None)),
    )
    token = _INVOCATION.set(current)
    try:
        yield current
    finally:
        _INVOCATION.reset(token)
        if current.engine is not None:
            current.engine.dispose()


def _blank_to_none(text: str | None) -> str | None:
    return text if text is not None and text.strip() else None


def _current() -> Invocation:
    current = _INVOCATION.get()
    if current is None:  # called outside main(), e.g. from a script: the environment only
        current = Invocation()
        _INVOCATION.set(current)
    return current


def open_engine():
    """The database (``DATABASE_URL``, else ``TRIALS_DB``, else the data folder), migrated."""
    current = _current()
    if current.engine is None:
        from trials.storage.engine import connect

        current.engine = connect()
    return current.engine


def acting_name(default: str | None = None) -> tuple[str, str]:
    """Who the command acts as, and where that name came from: ``--as``, else ``default``
    (a command's own, e.g. ``user passwd NAME``), else ``TRIALS_USER``, else the
    operating-system user."""
    from trials.analysis.accounts import default_actor

    current = _current()
    if current.as_user is not None:
        return current.as_user.strip(), "from --as"
    if default is not None:
        return default, "the command's own default"
    return default_actor()


def acting_user(default: str | None = None):
    """The enabled account the command acts as (UserError otherwise, with how to fix it)."""
    from trials.analysis.accounts import acting_user as checked

    name, source = acting_name(default)
    return checked(open_engine(), name, named_by=source)


def open_store(default_user: str | None = None):
    """The store of the workspace (``--workspace``, else the user's default) for the
    account the command acts as, with its role there; opened once per command."""
    current = _current()
    if current.store is None:
        from trials.analysis.accounts import open_workspace

        user = acting_user(default_user)
        current.store = open_workspace(open_engine(), user.name, current.workspace)
    return current.store


def print_json(value: Any) -> None:
    """JSON as the CLI prints it: indented, non-ASCII kept."""
    print(json.dumps(value, indent=2, ensure_ascii=False))


def fraction(text: str) -> float:
    """0.03 or 3% (a share); refuses what is neither."""
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or a percentage") from None


def find_arm(trial, text: str):
    for sep in ("·", "/"):
        if sep in text:
            channel, _, creative = text.partition(sep)
            key = arm_key(channel, creative)
            for arm in trial.arms:
                if arm_key(arm.spec.channel, arm.spec.creative) == key:
                    return arm
    names = ", ".join(f"'{a.name}'" for a in trial.arms)
    raise UserError(f"--arm {text}: no such arm; the arms are {names}")


def read_trial_file(path: Path) -> dict[str, Any]:
    """A trial's fields from a .json or .toml file."""
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise CliError(f"{path}: give a .json or .toml file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise CliError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from e
    try:
        values = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as e:
        raise CliError(f"{path}: line {e.lineno}, column {e.colno}: {e.msg}") from e
    except tomllib.TOMLDecodeError as e:
        raise CliError(f"{path}: {e}") from e
    if not isinstance(values, dict):
        raise CliError(f"{path}: expected one trial (an object with name, arms, ...)")
    return values


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [headers] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


_WRITE_FAILURES = {
    errno.ENOSPC: "the disk is full; free some space and run it again",
    errno.EDQUOT: "the disk quota is used up; free some space and run it again",
    errno.EROFS: "the disk is read-only; write it somewhere else",
    errno.EACCES: "permission denied; write it somewhere you may write",
    errno.EPERM: "permission denied; write it somewhere you may write",
    errno.ENOENT: "no such folder; create it first or write it somewhere else",
    errno.ENOTDIR: "no such folder; create it first or write it somewhere else",
    errno.EISDIR: "that is a folder; name a file",
}


def write_file(path: Path, data: bytes) -> None:
    """``data`` written to ``path`` whole or not at all: into a temporary file beside it,
    then renamed over it, so a full disk or a failure half-way leaves no partial file (and
    an older file of that name as it was)."""
    folder = path.parent
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as e:
        raise CliError(f"cannot write {path}: {_write_failure(e)}") from e
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except OSError as e:
        Path(temporary).unlink(missing_ok=True)
        raise CliError(f"cannot write {path}: {_write_failure(e)}; nothing was written") from e


def _write_failure(error: OSError) -> str:
    return _WRITE_FAILURES.get(error.errno, error.strerror or str(error))


def _mode_for(path: Path) -> int:
    """The file's permissions: those of the file it replaces, else the usual ones."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
