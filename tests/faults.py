"""Real faults for the tests: a read-only disk, a full disk, a damaged or foreign database
file, a database written by a newer version.

A read-only or full disk is a real one where the test run may mount (root: a small tmpfs,
remounted read-only or filled up); otherwise a read-only folder is made with file modes,
and a full disk is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = [
    "checkpoint",
    "damage_table",
    "mark_newer",
    "read_only_copy",
    "tiny_disk",
]


def _mount(*args: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


def _unmount(folder: Path) -> None:
    # Lazy: an engine a failing test left open must not keep the mount (and the run) busy.
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


@contextmanager
def tiny_disk(folder: Path, kilobytes: int) -> Iterator[Path]:
    """A real disk of ``kilobytes`` mounted at ``folder`` (a tmpfs; needs root)."""
    folder.mkdir(parents=True, exist_ok=True)
    if not _mount("-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(folder)):
        pytest.skip("cannot mount a small disk here (needs root and mount)")
    try:
        yield folder
    finally:
        _unmount(folder)


@contextmanager
def read_only_copy(database: Path, folder: Path) -> Iterator[Path]:
    """A copy of the SQLite file ``database`` (without its -wal/-shm files: a cleanly
    closed database) in ``folder``, which this process cannot write: a read-only disk
    where the run may mount one, else a folder and file without write permission."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / database.name
    checkpoint(database)
    if _mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)):
        try:
            shutil.copy(database, copy)
            if not _mount("-o", "remount,ro", str(folder)):
                pytest.skip("cannot remount a disk read-only here")
            yield copy
        finally:
            _unmount(folder)
        return
    if os.geteuid() == 0:
        pytest.skip("root ignores file modes and cannot mount here: no read-only disk")
    shutil.copy(database, copy)
    copy.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield copy
    finally:
        folder.chmod(0o755)
        copy.chmod(0o644)


def checkpoint(database: Path) -> None:
    """Merge the -wal file into the database file (what closing the last connection does)."""
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def damage_table(database: Path, table: str) -> None:
    """Overwrite the first page of ``table`` with garbage: the file still opens, and a
    query that reads the table finds it damaged."""
    conn = sqlite3.connect(database)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    checkpoint(database)
    with database.open("r+b") as f:
        f.seek((root[0] - 1) * page_size)
        f.write(b"\xff" * page_size)


def mark_newer(engine, revision: str = "9999") -> None:
    """Record ``revision`` (unknown to this code) as the database's schema revision."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{revision}'")
