"""Rounds: a trial runs in rounds, each with its own dates, budget, arms and rule.

``rounds`` holds a trial's rounds once it has a second one; ``arms`` gains the rounds an
arm runs in (``first_round``, ``last_round``; every existing arm runs from round 1 and is
still running). Columns are added in place (ALTER TABLE ADD COLUMN), never by copying
``arms``, which the results refer to.

Revision ID: 0007_rounds
Revises: 0006_accounts
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_rounds"
down_revision = "0006_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "arms", sa.Column("first_round", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column("arms", sa.Column("last_round", sa.Integer(), nullable=True))
    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("budget_micros", sa.BigInteger(), nullable=False),
        sa.Column("decision_rule", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("replaced", sa.JSON(), nullable=False),
        sa.Column("carry_prior", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name="ck_rounds_dates_in_order"),
        sa.CheckConstraint("number >= 1", name="ck_rounds_number_positive"),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_rounds_trial_id_trials", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_rounds"),
        sa.UniqueConstraint("trial_id", "number", name="uq_rounds_trial_number"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_rounds_trial_id", "rounds", ["trial_id"])


def downgrade() -> None:
    op.drop_index("ix_rounds_trial_id", table_name="rounds")
    op.drop_table("rounds")
    # Dropping a column on SQLite rebuilds the table; arms is referenced by the results,
    # so the columns are dropped in place where the database can (SQLite >= 3.35).
    op.drop_column("arms", "last_round")
    op.drop_column("arms", "first_round")
