"""Scale plans: stepping a winning arm's daily spend up, with the stop condition written
down first.

A plan is written once. Triggers refuse any UPDATE that changes what was written (the
arm, the settings, the break-even, the start, who wrote it and when, the plan it
replaced and why) or that touches a plan already ended; the one change allowed is ending
an active plan (status, who, when, why). Every DELETE is refused (and TRUNCATE on
PostgreSQL), so a trial with a plan is archived, never deleted; the store says so first.

Revision ID: 0010_scale_plans
Revises: 0009_segments
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_scale_plans"
down_revision = "0009_segments"
branch_labels = None
depends_on = None

FUNCTION = "trials_scale_plan_written_once"
WRITTEN = (
    "trial_id",
    "arm_id",
    "base_daily_spend_micros",
    "step",
    "step_days",
    "stop_probability",
    "break_even_roas",
    "start_date",
    "created_at",
    "created_by",
    "replaces_id",
    "reason",
)
UPDATE_REFUSED = "scale_plans are written once: UPDATE refused (write a new plan instead)"
DELETE_REFUSED = "scale_plans are written once: DELETE refused (archive the trial instead)"


def _changed(distinct: str) -> str:
    """SQL true when an UPDATE changes a written column or touches an ended plan."""
    return " OR ".join(
        ["OLD.status <> 'active'"] + [f"NEW.{c} {distinct} OLD.{c}" for c in WRITTEN]
    )


def upgrade() -> None:
    op.create_table(
        "scale_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("arm_id", sa.Integer(), nullable=False),
        sa.Column("base_daily_spend_micros", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.Float(), nullable=False),
        sa.Column("step_days", sa.Integer(), nullable=False),
        sa.Column("stop_probability", sa.Float(), nullable=False),
        sa.Column("break_even_roas", sa.Float(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(120), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "base_daily_spend_micros > 0", name="ck_scale_plans_base_spend_positive"
        ),
        sa.CheckConstraint("step > 0", name="ck_scale_plans_step_positive"),
        sa.CheckConstraint("step_days > 0", name="ck_scale_plans_step_days_positive"),
        sa.CheckConstraint(
            "stop_probability > 0 AND stop_probability < 1",
            name="ck_scale_plans_stop_probability_a_probability",
        ),
        sa.CheckConstraint("break_even_roas > 0", name="ck_scale_plans_plan_break_even_positive"),
        sa.CheckConstraint(
            "status IN ('active', 'stopped', 'finished', 'replaced')",
            name="ck_scale_plans_plan_status_known",
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_scale_plans_trial_id_trials", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["arm_id"], ["arms.id"], name="fk_scale_plans_arm_id_arms", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["scale_plans.id"],
            name="fk_scale_plans_replaces_id_scale_plans",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scale_plans"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_scale_plans_trial_id", "scale_plans", ["trial_id"])
    op.create_index("ix_scale_plans_arm_id", "scale_plans", ["arm_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF {_changed("IS DISTINCT FROM")} THEN
            RAISE EXCEPTION '{UPDATE_REFUSED}' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'scale_plans are written once: % refused (archive the trial instead)',
        TG_OP USING ERRCODE = 'restrict_violation';
END
$$
"""
        )
        op.execute(
            "CREATE TRIGGER scale_plans_written_once BEFORE UPDATE OR DELETE ON scale_plans "
            f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
        )
        op.execute(
            "CREATE TRIGGER scale_plans_no_truncate BEFORE TRUNCATE ON scale_plans "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )
    elif dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER scale_plans_no_update BEFORE UPDATE ON scale_plans "
            f"WHEN {_changed('IS NOT')} "
            f"BEGIN SELECT RAISE(ABORT, '{UPDATE_REFUSED}'); END"
        )
        op.execute(
            "CREATE TRIGGER scale_plans_no_delete BEFORE DELETE ON scale_plans "
            f"BEGIN SELECT RAISE(ABORT, '{DELETE_REFUSED}'); END"
        )
    else:
        raise NotImplementedError(
            f"the scale plans' triggers are written for SQLite and PostgreSQL, not {dialect}"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS scale_plans_written_once ON scale_plans")
        op.execute("DROP TRIGGER IF EXISTS scale_plans_no_truncate ON scale_plans")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS scale_plans_no_update")
        op.execute("DROP TRIGGER IF EXISTS scale_plans_no_delete")
    op.drop_table("scale_plans")
