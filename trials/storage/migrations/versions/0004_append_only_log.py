"""The decision log and the amendments are append-only in the database itself.

Triggers refuse every UPDATE and DELETE on ``decisions`` and ``amendments`` (and TRUNCATE
on PostgreSQL), whoever sends it: the store never changes an entry (a correction is a new
entry naming the one it corrects), and now a script or a mistaken SQL session cannot
either. A trial with a decision or an amendment can therefore not be deleted (the cascade
would delete its log); the store refuses that first with a plain message (archive it).

A later migration that rebuilds either table (e.g. SQLite's batch mode, which copies a
table into a new one) must create these triggers again; the storage tests check them at
the head revision on both backends.

Revision ID: 0004_append_only_log
Revises: 0003
Create Date: 2026-12-05
"""

from alembic import op

revision = "0004_append_only_log"
down_revision = "0003"
branch_labels = None
depends_on = None

LOGS = ("decisions", "amendments")
FUNCTION = "trials_refuse_log_change"

_POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (record a correction instead)',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
"""


def _sqlite_message(table: str, action: str) -> str:
    return f"{table} is append-only: {action} refused (record a correction instead)"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        for table in LOGS:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
    elif dialect == "sqlite":
        for table in LOGS:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{_sqlite_message(table, action)}'); END"
                )
    else:
        raise NotImplementedError(
            f"the append-only triggers are written for SQLite and PostgreSQL, not {dialect}"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in LOGS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    elif dialect == "sqlite":
        for table in LOGS:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
