"""Where the database is, how to connect to it, and bringing its schema up to date.

``DATABASE_URL`` (any SQLAlchemy URL; ``postgresql://`` is read as psycopg 3) wins; else
``TRIALS_DB`` names an SQLite file; else ``trials.sqlite3`` in the app's data directory
(``TRIALS_DATA_DIR``, default ``data/`` beside the code).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

__all__ = [
    "DEFAULT_DATA_DIR",
    "SQLITE_BUSY_TIMEOUT_MS",
    "connect",
    "data_dir",
    "database_url",
    "describe",
    "downgrade",
    "head_revision",
    "migrate",
    "schema_revision",
    "writer",
]

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option marking a transaction that will write (see ``writer``).
WRITE_OPTION = "trials_write"
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
    """An engine for ``url`` (default: from the environment), schema brought up to date."""
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if migrate_schema:
        migrate(engine)
    return engine


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # pragma: no cover - exercised via every test
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


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
