"""The raw landing tables of ``zuora/workflow_pages`` and ``zuora/workflow_exports``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import raw_export_staging, raw_workflow_exports, raw_workflow_pages
from zuora_pipeline.warehouse.upsert import dialect_insert, upsert


@dataclass(frozen=True)
class RawPage:
    page_number: int
    url: str
    body: str
    item_count: int


@dataclass(frozen=True)
class RawExport:
    zuora_id: int
    content: str
    export_hash: str
    list_fingerprint: str
    task_count: int


def clear_pages(conn: sa.Connection, customer_id: int) -> None:
    conn.execute(sa.delete(raw_workflow_pages).where(raw_workflow_pages.c.customer_id == customer_id))


def insert_pages(conn: sa.Connection, customer_id: int, pages: Sequence[RawPage], *, run_id: str, at: datetime) -> None:
    if pages:
        conn.execute(
            sa.insert(raw_workflow_pages),
            [
                {
                    "customer_id": customer_id,
                    "page_number": p.page_number,
                    "url": p.url,
                    "body": p.body,
                    "item_count": p.item_count,
                    "run_id": run_id,
                    "fetched_at": at,
                }
                for p in pages
            ],
        )


def iter_page_bodies(conn: sa.Connection, customer_id: int) -> Iterator[str]:
    """The customer's last complete listing, page by page, in order."""
    query = (
        sa.select(raw_workflow_pages.c.body)
        .where(raw_workflow_pages.c.customer_id == customer_id)
        .order_by(raw_workflow_pages.c.page_number)
    )
    yield from conn.execute(query).scalars()


def page_stats(conn: sa.Connection, customer_id: int) -> tuple[int, int]:
    """(pages, items) of the stored listing."""
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(raw_workflow_pages.c.item_count), 0)).where(
            raw_workflow_pages.c.customer_id == customer_id
        )
    ).one()
    return int(row[0]), int(row[1])


def export_fingerprints(conn: sa.Connection, customer_id: int) -> dict[int, str]:
    query = sa.select(raw_workflow_exports.c.zuora_id, raw_workflow_exports.c.list_fingerprint).where(
        raw_workflow_exports.c.customer_id == customer_id
    )
    return {int(zid): fp for zid, fp in conn.execute(query)}


def export_hashes(conn: sa.Connection, customer_id: int) -> dict[int, str]:
    query = sa.select(raw_workflow_exports.c.zuora_id, raw_workflow_exports.c.export_hash).where(
        raw_workflow_exports.c.customer_id == customer_id
    )
    return {int(zid): h for zid, h in conn.execute(query)}


def clear_staging(conn: sa.Connection, customer_id: int) -> None:
    """Drop exports staged by fetches of this customer that never committed (crashed runs)."""
    conn.execute(sa.delete(raw_export_staging).where(raw_export_staging.c.customer_id == customer_id))


def stage_exports(
    conn: sa.Connection, customer_id: int, exports: Sequence[RawExport], *, run_id: str, at: datetime
) -> int:
    rows: list[dict[str, Any]] = [
        {
            "run_id": run_id,
            "customer_id": customer_id,
            "zuora_id": e.zuora_id,
            "content": e.content,
            "export_hash": e.export_hash,
            "list_fingerprint": e.list_fingerprint,
            "task_count": e.task_count,
            "fetched_at": at,
        }
        for e in exports
    ]
    return upsert(conn, raw_export_staging, rows, keys=["run_id", "customer_id", "zuora_id"], batch_size=200)


def promote_staged(conn: sa.Connection, customer_id: int, *, run_id: str) -> int:
    """Move this run's staged exports into raw_workflow_exports (inside the database)."""
    stage = raw_export_staging
    columns = ["customer_id", "zuora_id", "content", "export_hash", "list_fingerprint", "task_count", "fetched_at"]
    select = sa.select(*(stage.c[c] for c in columns), sa.literal(run_id).label("run_id")).where(
        stage.c.customer_id == customer_id, stage.c.run_id == run_id
    )
    insert = dialect_insert(conn, raw_workflow_exports).from_select([*columns, "run_id"], select)
    insert = insert.on_conflict_do_update(
        index_elements=["customer_id", "zuora_id"],
        set_={c: insert.excluded[c] for c in [*columns[2:], "run_id"]},
    )
    moved = conn.execute(insert).rowcount or 0
    conn.execute(sa.delete(stage).where(stage.c.customer_id == customer_id, stage.c.run_id == run_id))
    return moved
