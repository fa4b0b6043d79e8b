"""When the database itself cannot do what was asked: read-only, full, damaged, written by
a newer version, or out of reach. Each is a ``UserError`` with a plain message saying what
to do, never a driver's traceback.

``str(fault)`` names no file, folder or server, so it is safe to show in a browser;
``fault.detail`` names the database, for the command line and the server's log.
"""

from __future__ import annotations

from sqlalchemy import Engine, event

from trials.domain import UserError

__all__ = [
    "DamagedDatabase",
    "DatabaseFault",
    "DatabaseFull",
    "DatabaseUnavailable",
    "NewerDatabase",
    "ReadOnlyDatabase",
    "explain_faults",
    "fault_for",
]

_TELL = "tell whoever runs Channel Trials"


class DatabaseFault(UserError):
    """The database cannot be used as asked. ``str()`` is safe to show to anyone;
    ``detail`` names the database for whoever runs the app."""

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.detail = detail or message


class ReadOnlyDatabase(DatabaseFault):
    pass


class DatabaseFull(DatabaseFault):
    pass


class DamagedDatabase(DatabaseFault):
    pass


class NewerDatabase(DatabaseFault):
    pass


class DatabaseUnavailable(DatabaseFault):
    pass


def read_only(where: str) -> ReadOnlyDatabase:
    return ReadOnlyDatabase(
        "The database is read-only, so nothing was saved. Reading works as usual; to make "
        f"changes, {_TELL} to make it writable.",
        f"{where} is read-only (the file, its folder or the disk), so nothing was saved; "
        "reading works. To make changes, make the file and its folder writable for this user "
        "(and restart the app).",
    )


def read_only_and_older(where: str, revision: str, head: str) -> ReadOnlyDatabase:
    return ReadOnlyDatabase(
        "The database is read-only and was written by an older Channel Trials, so this "
        f"version cannot open it; {_TELL} to make it writable once.",
        f"{where} is read-only and at schema revision {revision}; this version needs "
        f"{head}. Make it writable and run `python -m trials migrate` once.",
    )


def full(where: str) -> DatabaseFull:
    return DatabaseFull(
        "The disk that holds the database is full, so nothing was saved. Try again once "
        f"space is freed ({_TELL}).",
        f"the disk holding {where} is full, so nothing was saved; free some space and try again.",
    )


def damaged(where: str) -> DamagedDatabase:
    return DamagedDatabase(
        "The database is not a Channel Trials database or is damaged; "
        f"{_TELL} to restore it from a backup.",
        f"{where} is not a Channel Trials database or is damaged; restore it from a backup "
        "(or point TRIALS_DB or DATABASE_URL at the right one).",
    )


def newer(where: str, revision: str, head: str) -> NewerDatabase:
    return NewerDatabase(
        f"This database was written by a newer Channel Trials (revision {revision}); "
        f"update the app ({_TELL}).",
        f"{where} was written by a newer Channel Trials (revision {revision}; this version "
        f"knows revisions up to {head}); update the app.",
    )


def unavailable(where: str, reason: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"The database cannot be opened right now; {_TELL}.",
        f"cannot open {where}: {reason}",
    )


def fault_for(
    error: BaseException, where: str, *, connecting: bool = False
) -> DatabaseFault | None:
    """The plain fault behind a driver's ``error``, or None when it is not one of them
    (constraint violations and the like stay what they are)."""
    name = getattr(error, "sqlite_errorname", None)
    if name is not None:
        if name.startswith("SQLITE_READONLY"):
            return read_only(where)
        if name in ("SQLITE_FULL", "SQLITE_IOERR_SHMSIZE"):  # the -shm file could not grow
            return full(where)
        if name == "SQLITE_NOTADB" or name.startswith("SQLITE_CORRUPT"):
            return damaged(where)
        if name.startswith("SQLITE_CANTOPEN"):
            return unavailable(
                where, "the file or its folder cannot be opened (check they exist and may be read)"
            )
        if name.startswith("SQLITE_IOERR"):
            return unavailable(
                where,
                f"the disk reported an error ({name}); check that it has free space and is healthy",
            )
        return None
    sqlstate = getattr(error, "sqlstate", None)  # PostgreSQL (psycopg)
    if sqlstate == "25006":  # read_only_sql_transaction
        return read_only(where)
    if sqlstate == "53100":  # disk_full
        return full(where)
    if connecting and type(error).__name__ == "OperationalError":
        first_line = (str(error).strip().splitlines() or ["no answer"])[0]
        return unavailable(where, f"{first_line[:200]} (is the server running, and the URL right?)")
    return None


def explain_faults(engine: Engine, where: str) -> None:
    """Make ``engine`` raise these faults in place of the driver's errors they stand for."""

    @event.listens_for(engine, "handle_error")
    def _explain(context) -> None:
        fault = fault_for(context.original_exception, where, connecting=context.connection is None)
        if fault is not None:
            raise fault from context.original_exception
