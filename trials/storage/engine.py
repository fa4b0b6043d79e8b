"""Where the database is, how to connect to it, and bringing its schema up to date.

``DATABASE_URL`` (any SQLAlchemy URL; ``postgresql://`` is read as psycopg 3) wins; else
``TRIALS_DB`` names an SQLite file; else ``trials.sqlite3`` in the app's data directory
(``TRIALS_DATA_DIR``, default ``data/`` beside the code).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from trials.storage import faults

__all__ = [
    "DEFAULT_DATA_DIR",
    "SQLITE_BUSY_TIMEOUT_MS",
    "connect",
    "data_dir",
    "database_url",
    "describe",
    "downgrade",
    "head_revision",
    "is_read_only",
    "migrate",
    "schema_revision",
    "writer",
]

# The checkout's data/ folder (git-ignored), as before the storage package moved here.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option marking a transaction that will write (see ``writer``).
WRITE_OPTION = "trials_write"
# Execution option marking an engine on a database this process cannot write.
READ_ONLY_OPTION = "trials_read_only"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The PostgreSQL advisory lock migrations run under (any fixed number; "trialsmg").
MIGRATION_LOCK = int.from_bytes(b"trialsmg") >> 1


def data_dir() -> Path:
    return Path(os.environ.get("TRIALS_DATA_DIR") or DEFAULT_DATA_DIR)


def database_url(env: dict[str, str] | None = None) -> str:
    """The database this process should use, from the environment."""
    env = os.environ if env is None else env
    url = (env.get("DATABASE_URL") or "").strip()
    if url:
        # Hosting providers hand out postgres:// URLs; SQLAlchemy wants a driver named.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
    path = (env.get("TRIALS_DB") or "").strip()
    if path:
        return f"sqlite:///{Path(path).expanduser().resolve()}"
    base = Path(env.get("TRIALS_DATA_DIR") or DEFAULT_DATA_DIR)
    return f"sqlite:///{(base / 'trials.sqlite3').resolve()}"


def describe(url: str) -> str:
    """The URL with any password hidden, for messages and the sidebar."""
    return make_url(url).render_as_string(hide_password=True)


def connect(url: str | None = None, *, migrate_schema: bool = True) -> Engine:
    """An engine for ``url`` (default: from the environment), schema brought up to date.

    An SQLite file this process cannot write (read-only file, folder or disk) is opened
    read-only: everything reads as usual and a write is refused with a plain message. A
    file that is not a Channel Trials database, one written by a newer version, a full
    disk and an unreachable server raise the ``trials.storage.faults`` that say so.
    """
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        where = parsed.database or "the in-memory database"
        engine = _sqlite_engine(url, where)
    else:
        where = describe(url)
        engine = create_engine(url, pool_pre_ping=True)
    faults.explain_faults(engine, where)
    if migrate_schema:
        _bring_up_to_date(engine, where)
    return engine


def is_read_only(engine: Engine) -> bool:
    """Whether ``engine`` was opened on a database this process cannot write."""
    return bool(engine.get_execution_options().get(READ_ONLY_OPTION))


def _bring_up_to_date(engine: Engine, where: str) -> None:
    """Migrate to the newest revision, unless the database is there already (then nothing
    is written, so a read-only database opens), was written by a newer version, or is not
    ours."""
    # The revision and the tables from one read (one snapshot): a process that starts
    # beside another's first migration sees the database before or after it, never half.
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        current = (
            conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            if "alembic_version" in tables
            else None
        )
    head = head_revision()
    if current == head:
        return
    if current is not None and current not in _known_revisions():
        raise faults.newer(where, current, head)
    # Someone else's SQLite file: never build our tables inside it.
    if current is None and engine.dialect.name == "sqlite" and tables - {"alembic_version"}:
        raise faults.damaged(where)
    if is_read_only(engine):
        raise faults.read_only_and_older(where, current or "none", head)
    migrate(engine)


def _sqlite_engine(url: str, where: str) -> Engine:
    database = make_url(url).database
    read_only = False
    options: dict = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    }
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        if path.exists():
            read_only = not _writable(path)
        else:
            _make_folder(path, where)
        if read_only:
            options = {"creator": _read_only_opener(path, where)}
    engine = create_engine(url, **options)
    if read_only:
        engine = engine.execution_options(**{READ_ONLY_OPTION: True})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # pragma: no cover - exercised via every test
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not read_only:  # switching to WAL writes to the file
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # pragma: no cover - exercised via every test
        # Writers take the lock up front (IMMEDIATE), so two writers queue on the busy
        # timeout instead of one failing half-way with "database is locked"; readers
        # stay deferred so WAL lets them run beside a writer.
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        if write and read_only:  # refused before anything is written
            raise faults.read_only(where)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _writable(path: Path) -> bool:
    """Whether this process can write the SQLite file ``path`` in WAL mode, which also
    writes a ``-wal`` and a ``-shm`` file beside it."""
    if not os.access(path, os.W_OK):
        return False
    if os.access(path.parent, os.W_OK | os.X_OK):
        return True
    return all(os.access(path.with_name(path.name + end), os.W_OK) for end in ("-wal", "-shm"))


def _make_folder(path: Path, where: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise faults.unavailable(
            where, f"its folder cannot be created ({e.strerror or e}); create it or set TRIALS_DB"
        ) from e
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise faults.unavailable(
            where,
            "there is no database there yet and its folder is read-only; make the folder "
            "writable or point TRIALS_DB at a writable place",
        )


def _read_only_opener(path: Path, where: str):
    """A connection factory opening ``path`` read-only.

    SQLite reads a WAL database through its ``-shm`` index, which it must be able to create
    or find; on a read-only folder or disk without one, the file is opened as immutable,
    which is safe only when no ``-wal`` file holds changes not yet merged into it (then
    the file cannot be read here and says so).
    """
    uri = "file:" + quote(str(path.resolve()))
    wal = path.with_name(path.name + "-wal")

    def open_read_only() -> sqlite3.Connection:
        try:
            return _open_checked(f"{uri}?mode=ro")
        except sqlite3.OperationalError as e:
            if e.sqlite_errorname != "SQLITE_CANTOPEN":
                raise
            if wal.exists() and wal.stat().st_size > 0:
                raise faults.unavailable(
                    where,
                    f"it is read-only here and {wal.name} holds changes not yet merged into it; "
                    "open it once where it is writable",
                ) from e
        return _open_checked(f"{uri}?mode=ro&immutable=1")

    return open_read_only


def _open_checked(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def writer(engine: Engine) -> Engine:
    """The same engine, with transactions that take the write lock at once on SQLite."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _alembic_config(engine: Engine | None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = writer(engine)
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent; safe on every start, and when
    many processes start at once: they take turns, see :func:`_migration_lock`)."""
    from alembic import command

    if revision == "head" and schema_revision(engine) == head_revision():
        return  # the usual start: nothing to do, no lock to wait for
    with _migration_lock(engine):
        command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with _migration_lock(engine):
        command.downgrade(_alembic_config(engine), revision)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time.

    On PostgreSQL a session advisory lock, held on a connection of its own while the
    migration runs on another, so processes starting together queue and each finds the
    schema as the one before it left it (DDL alone would collide on the catalog). On
    SQLite the migration's transaction takes the write lock as it begins (``writer``).
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            conn.commit()


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(None))
    return {rev.revision for rev in script.walk_revisions()}


def head_revision() -> str:
    """The newest migration this code knows."""
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)
    return ScriptDirectory.from_config(config).get_current_head()


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
