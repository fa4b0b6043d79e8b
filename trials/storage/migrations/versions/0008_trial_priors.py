"""Trial priors: whether a trial's analysis uses priors learned from past trials, and
channels' priors set by hand; every change a new row with who and when.

Revision ID: 0008_trial_priors
Revises: 0007_rounds
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_trial_priors"
down_revision = "0007_rounds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trial_priors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("use_learned", sa.Boolean(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_trial_priors_trial_id_trials", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trial_priors"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_trial_priors_trial_id", "trial_priors", ["trial_id"])


def downgrade() -> None:
    op.drop_table("trial_priors")
