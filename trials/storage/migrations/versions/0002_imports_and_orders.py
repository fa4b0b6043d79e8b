"""Imports and own orders: replaced rows kept for undo, orders, UTM rules, attribution.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _result_columns() -> list[sa.Column]:
    return [
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("conversions", sa.BigInteger(), nullable=False),
        sa.Column("spend_micros", sa.BigInteger(), nullable=False),
        sa.Column("revenue_micros", sa.BigInteger(), nullable=False),
    ]


def _order_columns() -> list[sa.Column]:
    return [
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(120), nullable=False),
        sa.Column("touch", sa.String(700), nullable=False),
        sa.Column("ordered_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("amount_micros", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("utm_source", sa.String(255), nullable=False),
        sa.Column("utm_medium", sa.String(255), nullable=False),
        sa.Column("utm_campaign", sa.String(255), nullable=False),
        sa.Column("utm_content", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("creative", sa.String(255), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
    ]


def _replaced(table: str, columns: list[sa.Column], with_arm: bool) -> None:
    fks = [
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name=f"fk_{table}_trial_id_trials", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=f"fk_{table}_import_batch_id_import_batches",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_batch_id"],
            ["import_batches.id"],
            name=f"fk_{table}_replaced_by_batch_id_import_batches",
            ondelete="CASCADE",
        ),
    ]
    if with_arm:
        fks.append(
            sa.ForeignKeyConstraint(
                ["arm_id"], ["arms.id"], name=f"fk_{table}_arm_id_arms", ondelete="CASCADE"
            )
        )
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        *columns,
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.Column("replaced_by_batch_id", sa.Integer(), nullable=False),
        *fks,
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sqlite_autoincrement=True,
    )
    op.create_index(f"ix_{table}_replaced_by_batch_id", table, ["replaced_by_batch_id"])


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of ``trials`` on SQLite would drop the table, and
    # with foreign keys on, that cascades to every arm and result.
    op.add_column(
        "trials",
        sa.Column("attribution_rule", sa.String(16), nullable=False, server_default="last_touch"),
    )
    op.add_column(
        "trials",
        sa.Column("results_source", sa.String(16), nullable=False, server_default="auto"),
    )
    op.add_column("import_batches", sa.Column("details", sa.JSON(), nullable=True))

    _replaced("replaced_results", _result_columns(), with_arm=True)

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        *_order_columns(),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_orders_trial_id_trials", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name="fk_orders_import_batch_id_import_batches",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("trial_id", "order_id", "touch", name="uq_orders_trial_order_touch"),
        sa.CheckConstraint("amount_micros >= 0", name="ck_orders_amount_not_negative"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_orders_import_batch_id", "orders", ["import_batch_id"])

    _replaced("replaced_orders", _order_columns(), with_arm=False)

    op.create_table(
        "utm_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("utm_source", sa.String(255), nullable=False),
        sa.Column("utm_medium", sa.String(255), nullable=False),
        sa.Column("utm_campaign", sa.String(255), nullable=False),
        sa.Column("utm_content", sa.String(255), nullable=False),
        sa.Column("arm_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_utm_rules_trial_id_trials", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["arm_id"], ["arms.id"], name="fk_utm_rules_arm_id_arms", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_utm_rules"),
        sa.UniqueConstraint(
            "trial_id",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            name="uq_utm_rules_trial_values",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_utm_rules_trial_id", "utm_rules", ["trial_id"])


def downgrade() -> None:
    op.drop_table("utm_rules")
    op.drop_table("replaced_orders")
    op.drop_table("orders")
    op.drop_table("replaced_results")
    # SQLite 3.35+ and PostgreSQL both drop a column in place (no table rebuild).
    for table, column in (
        ("import_batches", "details"),
        ("trials", "results_source"),
        ("trials", "attribution_rule"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
