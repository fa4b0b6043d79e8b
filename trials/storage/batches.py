"""Import batches: every write of results or orders is one (who, when, which file)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from trials.domain.imports import ImportBatch
from trials.storage import schema as t
from trials.storage.rows import batch_from_row

__all__ = ["batch_by_id", "batch_with_digest", "new_batch"]


def new_batch(
    conn: Connection,
    trial_id: int,
    *,
    actor: str,
    kind: str,
    file_name: str | None,
    digest: str | None,
    row_count: int,
    details: dict | None,
) -> int:
    """Open an import batch (committed) and return its id."""
    return conn.execute(
        insert(t.import_batches).values(
            trial_id=trial_id,
            kind=kind,
            file_name=file_name,
            digest=digest,
            row_count=row_count,
            status="committed",
            created_at=datetime.now(UTC),
            created_by=actor,
            details=details,
        )
    ).inserted_primary_key[0]


def batch_with_digest(conn: Connection, trial_id: int, digest: str | None) -> ImportBatch | None:
    """The live batch that imported bytes with this digest, if any."""
    if not digest:
        return None
    b = t.import_batches.c
    row = conn.execute(
        select(t.import_batches)
        .where(b.trial_id == trial_id, b.digest == digest, b.status == "committed")
        .order_by(b.id.desc())
    ).first()
    return batch_from_row(row) if row else None


def batch_by_id(conn: Connection, batch_id: int) -> ImportBatch:
    return batch_from_row(
        conn.execute(select(t.import_batches).where(t.import_batches.c.id == batch_id)).one()
    )
