"""Shared fixtures: every test gets its own database and a known user (``tester``, an
administrator; ``add_account`` adds others).

Store tests run on SQLite always and, when ``TEST_DATABASE_URL`` points at a PostgreSQL
database, on PostgreSQL too (that database is wiped before each test).
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url

from trials.domain import ArmSpec, DailyResult, PrimaryMetric, TrialSpec
from trials.domain.accounts import Role
from trials.storage.accounts import AccountRepository
from trials.storage.engine import connect, database_url
from trials.storage.schema import DEFAULT_WORKSPACE_ID
from trials.storage.store import TrialStore

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def accounts_template(tmp_path_factory) -> Path:
    """An SQLite database, migrated, whose one account is ``tester``: a site administrator
    and admin of the Default workspace. Built once; each test gets a copy (see below)."""
    path = tmp_path_factory.mktemp("template") / "trials.sqlite3"
    engine = connect(f"sqlite:///{path}")
    AccountRepository(engine, actor="tester").add_user(
        "tester", is_admin=True, first=True, workspace_role=(DEFAULT_WORKSPACE_ID, Role.ADMIN)
    )
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch, accounts_template):
    # The CLI and the app act as an account: TRIALS_DB starts as a copy of the template,
    # so TRIALS_USER=tester names an administrator of the Default workspace.
    shutil.copyfile(accounts_template, tmp_path / "trials.sqlite3")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("TRIALS_DB", str(tmp_path / "trials.sqlite3"))
    monkeypatch.setenv("TRIALS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRIALS_USER", "tester")


@pytest.fixture
def add_account():
    """``add_account(name, role="editor", workspace="Default")``: an account in TRIALS_DB
    with that role (added by tester, as a site administrator would); ``role=None``: none."""
    from trials.analysis.accounts import add_user, grant

    def add(name: str, role: str | None = "editor", workspace: str = "Default", **kwargs):
        engine = connect(database_url())
        try:
            user = add_user(engine, "tester", name, **kwargs)
            if role is not None:
                grant(engine, "tester", workspace, name, role)
            return user
        finally:
            engine.dispose()

    return add


def _worker_database(url: str, worker_id: str) -> str:
    """A database of this test worker's own on the server at ``url``, emptied."""
    name = f"trials_test_{worker_id}".lower()
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    own = make_url(url).set(database=name).render_as_string(hide_password=False)
    engine = connect(own, migrate_schema=False)
    meta = MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    engine.dispose()
    return own


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request, tmp_path, worker_id) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    return _worker_database(url, worker_id)


@pytest.fixture
def engine(db_url):
    engine = connect(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine) -> TrialStore:
    return TrialStore(engine, actor="tester")


def make_spec(**changes) -> TrialSpec:
    """A valid two-arm trial; override any field."""
    values = dict(
        name="Spring social test",
        hypothesis="Video beats image on WeChat.",
        primary_metric=PrimaryMetric.ROAS,
        break_even_roas=2.0,
        currency="CNY",
        start=date(2026, 9, 1),
        end=date(2026, 9, 28),
        budget=2000.0,
        arms=(
            ArmSpec("WeChat", "Video A", budget_share=0.5, control=True),
            ArmSpec("Weibo", "Image B", budget_share=0.5),
        ),
    )
    return TrialSpec(**(values | changes))


def day_rows(trial, days=3, start=None) -> list[DailyResult]:
    """``days`` days of modest results for every arm of a stored trial."""
    start = start or trial.spec.start
    return [
        DailyResult(
            arm_id=arm.id,
            day=start + timedelta(days=d),
            impressions=1000 + d,
            clicks=20 + i,
            conversions=2,
            spend=10.10,
            revenue=33.33,
        )
        for d in range(days)
        for i, arm in enumerate(trial.arms)
    ]
