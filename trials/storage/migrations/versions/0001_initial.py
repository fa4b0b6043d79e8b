"""Initial schema: workspaces, trials, arms, import batches, daily results, decisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    workspaces = op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
        sa.UniqueConstraint("name", name="uq_workspaces_name"),
        sqlite_autoincrement=True,
    )
    op.bulk_insert(workspaces, [{"id": 1, "name": "Default", "created_at": datetime.now(UTC)}])

    op.create_table(
        "trials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("hypothesis", sa.Text(), nullable=False),
        sa.Column("primary_metric", sa.String(32), nullable=False),
        sa.Column("break_even_roas", sa.Float(), nullable=False),
        sa.Column("gross_margin", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("budget_micros", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decision_rule", sa.JSON(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_trials_workspace_id_workspaces",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trials"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_trials_workspace_name"),
        sa.CheckConstraint("end_date >= start_date", name="ck_trials_dates_in_order"),
        sa.CheckConstraint("budget_micros >= 0", name="ck_trials_budget_not_negative"),
        sa.CheckConstraint("break_even_roas > 0", name="ck_trials_break_even_positive"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_trials_workspace_id", "trials", ["workspace_id"])

    op.create_table(
        "arms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(80), nullable=False),
        sa.Column("creative", sa.String(120), nullable=False),
        sa.Column("budget_share", sa.Float(), nullable=True),
        sa.Column("is_control", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_arms_trial_id_trials", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_arms"),
        sa.UniqueConstraint(
            "trial_id", "channel", "creative", name="uq_arms_trial_channel_creative"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_arms_trial_id", "arms", ["trial_id"])

    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(120), nullable=True),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trials.id"],
            name="fk_import_batches_trial_id_trials",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_import_batches"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_import_batches_trial_id", "import_batches", ["trial_id"])

    op.create_table(
        "daily_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("conversions", sa.BigInteger(), nullable=False),
        sa.Column("spend_micros", sa.BigInteger(), nullable=False),
        sa.Column("revenue_micros", sa.BigInteger(), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trials.id"],
            name="fk_daily_results_trial_id_trials",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["arm_id"], ["arms.id"], name="fk_daily_results_arm_id_arms", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name="fk_daily_results_import_batch_id_import_batches",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_daily_results"),
        sa.UniqueConstraint("trial_id", "arm_id", "day", "source", name="uq_daily_results_arm_day"),
        sa.CheckConstraint(
            "impressions >= 0 AND clicks >= 0 AND conversions >= 0 "
            "AND spend_micros >= 0 AND revenue_micros >= 0",
            name="ck_daily_results_not_negative",
        ),
        sa.CheckConstraint(
            "clicks <= impressions", name="ck_daily_results_clicks_within_impressions"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_daily_results_import_batch_id", "daily_results", ["import_batch_id"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_decisions_trial_id_trials", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["decisions.id"],
            name="fk_decisions_corrects_id_decisions",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_decisions_trial_id", "decisions", ["trial_id"])


def downgrade() -> None:
    op.drop_table("decisions")
    op.drop_table("daily_results")
    op.drop_table("import_batches")
    op.drop_table("arms")
    op.drop_table("trials")
    op.drop_table("workspaces")
