"""Accounts: users, their roles in workspaces, and the account log.

Workspaces gain ``name_key`` (their name folded for comparison, unique, so two never
differ only in case) and ``created_by``.

Revision ID: 0006_accounts
Revises: 0005_order_touch_key
Create Date: 2026-11-30
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0006_accounts"
down_revision = "0005_order_touch_key"
branch_labels = None
depends_on = None


def _name_key(name: str) -> str:
    # As trials.domain.accounts.name_key at the time of writing (kept here so the
    # migration does not change when the code does).
    return unicodedata.normalize("NFKC", name.strip()).casefold()


def upgrade() -> None:
    bind = op.get_bind()
    # SQLite adds a NOT NULL column only with a default; every row is filled in below.
    op.add_column(
        "workspaces",
        sa.Column("name_key", sa.String(240), nullable=False, server_default=""),
    )
    op.add_column("workspaces", sa.Column("created_by", sa.String(120), nullable=True))
    workspaces = sa.table(
        "workspaces", sa.column("id", sa.Integer), sa.column("name"), sa.column("name_key")
    )
    for row in bind.execute(sa.select(workspaces.c.id, workspaces.c.name)).all():
        bind.execute(
            sa.update(workspaces)
            .where(workspaces.c.id == row.id)
            .values(name_key=_name_key(row.name))
        )
    op.create_index("ix_workspaces_name_key", "workspaces", ["name_key"], unique=True)
    if bind.dialect.name == "postgresql":
        op.alter_column("workspaces", "name_key", server_default=None)
        # 0001 inserted the Default workspace with an explicit id, which leaves the id
        # sequence behind: the next workspace would be given id 1 again.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('workspaces', 'id'), "
            "(SELECT COALESCE(MAX(id), 1) FROM workspaces))"
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("name_key", sa.String(240), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_by", sa.String(120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.UniqueConstraint("name_key", name="uq_users_name_key"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_memberships_workspace_id_workspaces",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_memberships"),
        sa.UniqueConstraint("workspace_id", "user_id", name="uq_memberships_workspace_user"),
        sa.CheckConstraint(
            "role IN ('viewer', 'editor', 'admin')", name="ck_memberships_known_role"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "account_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("user_name", sa.String(120), nullable=True),
        sa.Column("workspace_name", sa.String(120), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_events"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("account_events")
    op.drop_index("ix_memberships_user_id", table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("users")
    op.drop_index("ix_workspaces_name_key", table_name="workspaces")
    op.drop_column("workspaces", "created_by")
    op.drop_column("workspaces", "name_key")
