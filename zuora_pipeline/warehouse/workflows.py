"""Reads and idempotent writes of the ``workflows`` table for one customer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from zuora_pipeline.warehouse.schema import raw_workflow_exports, workflows
from zuora_pipeline.warehouse.upsert import dialect_insert, upsert

_WRITTEN = (
    "name",
    "description",
    "state",
    "active_version",
    "created_on",
    "list_entry",
    "row_hash",
    "last_synced_at",
    "updated_at",
)


def stored(conn: sa.Connection, customer_id: int) -> list[tuple[int, str | None, bool]]:
    """(zuora_id, row_hash, soft-deleted?) of every row of the customer."""
    query = sa.select(workflows.c.zuora_id, workflows.c.row_hash, workflows.c.deleted_at).where(
        workflows.c.customer_id == customer_id
    )
    return [(int(zid), h, deleted_at is not None) for zid, h, deleted_at in conn.execute(query)]


def upsert_rows(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Rows carry customer_id, zuora_id and the normalized fields. A conflict restores a
    soft-deleted row and never moves ``updated_on`` backwards (a stale replica of the listing
    must not undo a newer state we already hold)."""
    if not rows:
        return 0
    excluded = dialect_insert(conn, workflows).excluded
    newer = sa.case(
        (workflows.c.updated_on.is_(None), excluded.updated_on),
        (excluded.updated_on.is_(None), workflows.c.updated_on),
        (excluded.updated_on > workflows.c.updated_on, excluded.updated_on),
        else_=workflows.c.updated_on,
    )
    return upsert(
        conn,
        workflows,
        rows,
        keys=["customer_id", "zuora_id"],
        update=_WRITTEN,
        overrides={"updated_on": newer, "deleted_at": sa.null()},
    )


def copy_exports(conn: sa.Connection, customer_id: int) -> int:
    """Bring each row's ``json_export`` up to its last good raw export, inside the database
    (no round trip of the JSON through Python). Returns the number of rows changed."""
    raw = raw_workflow_exports
    content: Any = raw.c.content
    if conn.dialect.name == "postgresql":
        content = sa.cast(raw.c.content, postgresql.JSONB)
    else:
        content = sa.func.json(raw.c.content)
    stmt = (
        sa.update(workflows)
        .values(json_export=content, export_hash=raw.c.export_hash)
        .where(
            workflows.c.customer_id == customer_id,
            raw.c.customer_id == workflows.c.customer_id,
            raw.c.zuora_id == workflows.c.zuora_id,
            workflows.c.export_hash.is_distinct_from(raw.c.export_hash),
        )
    )
    return conn.execute(stmt).rowcount or 0


def soft_delete(conn: sa.Connection, customer_id: int, zuora_ids: Sequence[int], at: datetime) -> int:
    if not zuora_ids:
        return 0
    total = 0
    for start in range(0, len(zuora_ids), 1000):
        chunk = list(zuora_ids[start : start + 1000])
        total += (
            conn.execute(
                sa.update(workflows)
                .where(
                    workflows.c.customer_id == customer_id,
                    workflows.c.zuora_id.in_(chunk),
                    workflows.c.deleted_at.is_(None),
                )
                .values(deleted_at=at, updated_at=at)
            ).rowcount
            or 0
        )
    return total


def mark_seen(conn: sa.Connection, customer_id: int, at: datetime) -> None:
    """One statement: every live row was confirmed by this sync's complete listing."""
    conn.execute(
        sa.update(workflows)
        .where(workflows.c.customer_id == customer_id, workflows.c.deleted_at.is_(None))
        .values(last_synced_at=at)
    )


def current_states(
    conn: sa.Connection, customer_id: int, zuora_ids: Sequence[int]
) -> dict[int, tuple[Any, str | None]]:
    """(json_export, state) of each workflow."""
    found: dict[int, tuple[Any, str | None]] = {}
    for start in range(0, len(zuora_ids), 500):
        query = sa.select(workflows.c.zuora_id, workflows.c.json_export, workflows.c.state).where(
            workflows.c.customer_id == customer_id, workflows.c.zuora_id.in_(list(zuora_ids[start : start + 500]))
        )
        found.update({int(zid): (export, state) for zid, export, state in conn.execute(query)})
    return found


def live_listing(conn: sa.Connection, customer_id: int, name: str | None = None) -> list[sa.Row]:
    """(zuora_id, name, state, created_on) of the live workflows, optionally of one name."""
    query = sa.select(workflows.c.zuora_id, workflows.c.name, workflows.c.state, workflows.c.created_on).where(
        workflows.c.customer_id == customer_id, workflows.c.deleted_at.is_(None)
    )
    if name is not None:
        query = query.where(workflows.c.name == name)
    return list(conn.execute(query.order_by(workflows.c.zuora_id)))
