"""The command line on a faulty database or disk: each fault a plain `error:` line saying
what to do (exit 1), never a traceback; reading a read-only database still works; a report
on a full disk leaves no file behind."""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
from pathlib import Path

import pytest

from tests.faults import damage_table, read_only_copy, tiny_disk
from tests.trials.cli.test_cli import run, write
from tests.trials.ingest.test_imports import TRIAL

DATA = (
    "date,channel,creative,impressions,clicks,conversions,spend,revenue\n"
    "2026-09-01,WeChat,Video A,1000,40,3,80.00,300.00\n"
    "2026-09-01,Weibo,Image B,900,30,1,70.00,90.00\n"
)


@pytest.fixture
def database(capsys, tmp_path) -> Path:
    """The CLI's database (TRIALS_DB) with one trial and a day of data."""
    assert run(capsys, "create", "--from-file", write(tmp_path, "t.json", TRIAL))[0] == 0
    assert run(capsys, "import", TRIAL["name"], write(tmp_path, "d.csv", DATA))[0] == 0
    return Path(os.environ["TRIALS_DB"])


def _refused(capsys, *argv) -> str:
    code, _, err = run(capsys, *argv)
    assert code == 1, err
    assert "Traceback" not in err and err.startswith("error: ")
    return err


def test_a_read_only_database_can_be_read_and_refuses_writes(
    capsys, tmp_path, database, monkeypatch
):
    with read_only_copy(database, tmp_path / "ro") as path:
        monkeypatch.setenv("TRIALS_DB", str(path))
        code, out, err = run(capsys, "list")
        assert code == 0 and TRIAL["name"] in out, err
        code, out, _ = run(capsys, "show", TRIAL["name"])
        assert code == 0 and "WeChat · Video A" in out
        code, out, _ = run(capsys, "analyze", TRIAL["name"], "--method", "exact")
        assert code == 0 and "PREVIEW" in out
        code, out, _ = run(capsys, "migrate")
        assert code == 0 and "schema revision" in out
        for argv in (
            ("archive", TRIAL["name"]),
            ("import", TRIAL["name"], write(tmp_path, "more.csv", DATA.replace("09-01", "09-02"))),
            ("create", "--from-file", write(tmp_path, "u.json", TRIAL | {"name": "Another"})),
            ("demo",),
        ):
            err = _refused(capsys, *argv)
            assert f"{path} is read-only" in err and "reading works" in err
        code, out, _ = run(capsys, "list", "--json")
        assert code == 0 and '"status": "draft"' in out and "Another" not in out


@pytest.mark.parametrize("damage", ["text", "page"])
def test_a_damaged_database_is_named_as_such(capsys, tmp_path, database, monkeypatch, damage):
    if damage == "text":
        broken = tmp_path / "broken.sqlite3"
        broken.write_text("name,spend\nWeChat,12\n" * 100)
        monkeypatch.setenv("TRIALS_DB", str(broken))
    else:
        damage_table(database, "daily_results")
        broken = database
    err = _refused(capsys, "list")
    assert err == (
        f"error: {broken} is not a Channel Trials database or is damaged; restore it from a "
        "backup (or point TRIALS_DB or DATABASE_URL at the right one).\n"
    )


def test_a_database_from_a_newer_version_asks_for_an_update(capsys, database):
    conn = sqlite3.connect(database)
    conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    conn.commit()
    conn.close()
    for argv in (("list",), ("show", TRIAL["name"]), ("migrate",)):
        err = _refused(capsys, *argv)
        assert "was written by a newer Channel Trials (revision ffff" in err
        assert "update the app" in err


@pytest.mark.parametrize("ref", ["9" * 50_000, "abc", "0", "99999999999999999999", "١٢"])
def test_any_trial_reference_that_names_none_is_not_found(capsys, database, ref):
    err = _refused(capsys, "show", ref)
    assert err.startswith("error: no trial '") and "python -m trials list" in err
    assert len(err) < 200  # the reference is quoted, not echoed whole


def test_a_report_on_a_full_disk_leaves_no_file(capsys, tmp_path, database, monkeypatch):
    import trials.cli.common as common

    out = tmp_path / "out"
    out.mkdir()
    older = out / "r.md"
    older.write_text("last week's report")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(common.os, "fsync", no_space)
    err = _refused(capsys, "report", TRIAL["name"], "--format", "md", "-o", str(older))
    assert "the disk is full" in err and "nothing was written" in err
    assert sorted(p.name for p in out.iterdir()) == ["r.md"]
    assert older.read_text() == "last week's report"  # the older file is kept as it was


@pytest.mark.slow
def test_a_report_on_a_really_full_disk_leaves_no_file(capsys, tmp_path, database):
    with tiny_disk(tmp_path / "small", 64) as folder:
        (folder / "filler").write_bytes(b"x" * 60 * 1024)
        target = folder / "report.html"
        err = _refused(capsys, "report", TRIAL["name"], "--format", "html", "-o", str(target))
        assert "the disk is full" in err
        assert sorted(p.name for p in folder.iterdir()) == ["filler"]


def test_a_report_is_written_whole_with_the_usual_permissions(capsys, tmp_path, database):
    target = tmp_path / "report.md"
    code, _, err = run(capsys, "report", TRIAL["name"], "--format", "md", "-o", str(target))
    assert code == 0, err
    assert target.read_text("utf-8").startswith("# Import test")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_unreachable_database_server_is_named_without_its_password(capsys, monkeypatch):
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql://trials:s3cret@127.0.0.1:{port}/trials")
    err = _refused(capsys, "list")
    assert err.startswith(f"error: cannot open postgresql+psycopg://trials:***@127.0.0.1:{port}/")
    assert "is the server running" in err and "s3cret" not in err
