"""Segments: daily results may be broken down by customer group, region, device or placement.

``daily_results`` and ``replaced_results`` gain ``segment`` ("" for a row without one,
which every existing row is), and an arm-day's unique key gains it too. SQLite changes a
unique constraint only by copying the table (Alembic's batch mode); its index on
``import_batch_id`` is created again with it, and the append-only triggers are on other
tables (the migration tests check both survive, with data).

Downgrading sums each arm-day's segments back into one row (the arm-level figures stay
the same; the breakdown is lost).

Revision ID: 0009_segments
Revises: 0008_trial_priors
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_segments"
down_revision = "0008_trial_priors"
branch_labels = None
depends_on = None

OLD_KEY = "uq_daily_results_arm_day"
NEW_KEY = "uq_daily_results_arm_day_segment"
SUMMED = ("impressions", "clicks", "conversions", "spend_micros", "revenue_micros")


def upgrade() -> None:
    for table in ("daily_results", "replaced_results"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("segment", sa.String(120), nullable=False, server_default="")
            )
            if table == "daily_results":
                batch.drop_constraint(OLD_KEY, type_="unique")
                batch.create_unique_constraint(
                    NEW_KEY, ["trial_id", "arm_id", "day", "source", "segment"]
                )


def downgrade() -> None:
    bind = op.get_bind()
    _merge_segments(bind, "daily_results", ("trial_id", "arm_id", "day", "source"))
    _merge_segments(
        bind, "replaced_results", ("replaced_by_batch_id", "trial_id", "arm_id", "day", "source")
    )
    for table in ("daily_results", "replaced_results"):
        with op.batch_alter_table(table) as batch:
            if table == "daily_results":
                batch.drop_constraint(NEW_KEY, type_="unique")
                batch.create_unique_constraint(OLD_KEY, ["trial_id", "arm_id", "day", "source"])
            batch.drop_column("segment")


def _merge_segments(bind, name: str, key: tuple[str, ...]) -> None:
    """Sum each group's rows into its first (lowest id) and delete the others."""
    table = sa.table(name, *(sa.column(c) for c in ("id", *key, *SUMMED)))
    groups = bind.execute(
        sa.select(
            *(table.c[k] for k in key),
            sa.func.min(table.c.id).label("first"),
            *(sa.func.sum(table.c[c]).label(c) for c in SUMMED),
        )
        .group_by(*(table.c[k] for k in key))
        .having(sa.func.count() > 1)
    ).all()
    for group in groups:
        where = sa.and_(*(table.c[k] == getattr(group, k) for k in key))
        bind.execute(sa.delete(table).where(where, table.c.id != group.first))
        bind.execute(
            sa.update(table)
            .where(table.c.id == group.first)
            .values(**{c: int(getattr(group, c)) for c in SUMMED})
        )
