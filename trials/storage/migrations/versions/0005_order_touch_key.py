"""An order's touch is stored as a fixed-length key (SHA-256 of the touch, hex).

The touch (an order's UTM values and arm columns, case-folded, joined) told two touches of
one order apart in ``orders``' unique index, but its six values together can be longer
than the column (700) and than a PostgreSQL index entry (about 2,700 bytes), so an order
with long UTM values was stored on SQLite and refused on PostgreSQL. The key has the same
meaning (one key per touch) in 64 characters; the store computes it with
``OrderRow.touch_key``. Upgrading rewrites the stored touches as keys; downgrading writes
the touches back from the rows' own values.

Revision ID: 0005_order_touch_key
Revises: 0004_append_only_log
Create Date: 2026-12-05
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0005_order_touch_key"
down_revision = "0004_append_only_log"
branch_labels = None
depends_on = None

# As ``trials.domain.orders.TOUCH_FIELDS`` and ``OrderRow.touch`` had it at this revision
# (written out here, so this migration keeps its meaning when the code moves on).
_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "channel", "creative")


def _touch(row) -> str:
    return "\x1f".join((getattr(row, f) or "").casefold() for f in _FIELDS)


def _key(row) -> str:
    return hashlib.sha256(_touch(row).encode("utf-8")).hexdigest()


def _rewrite(compute) -> None:
    conn = op.get_bind()
    for name in ("orders", "replaced_orders"):
        table = sa.table(name, sa.column("id"), sa.column("touch"), *map(sa.column, _FIELDS))
        rows = conn.execute(sa.select(table.c.id, *(table.c[f] for f in _FIELDS))).all()
        if rows:
            conn.execute(
                table.update().where(table.c.id == sa.bindparam("row_id")),
                [{"row_id": row.id, "touch": compute(row)} for row in rows],
            )


def upgrade() -> None:
    _rewrite(_key)


def downgrade() -> None:
    _rewrite(_touch)
