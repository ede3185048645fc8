"""The per-sync record: one row per (Dagster run, customer), filled in step by step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import sync_runs
from zuora_pipeline.warehouse.upsert import upsert

COUNTERS = (
    "pages",
    "listed",
    "exports_requested",
    "exports_downloaded",
    "created",
    "updated",
    "unchanged",
    "deleted",
    "total",
    "errors",
    "tasks_upserted",
    "tasks_deleted",
    "api_calls",
    "retries",
)


def record(conn: sa.Connection, *, customer_id: int, run_id: str, at: datetime, **values: Any) -> None:
    """Create or update the run's row; the first step to write it sets ``started_at``."""
    row = {"customer_id": customer_id, "run_id": run_id, "started_at": at, "status": "running"}
    row.update(values)
    upsert(
        conn,
        sync_runs,
        [row],
        keys=["run_id", "customer_id"],
        update=[k for k in row if k not in ("customer_id", "run_id", "started_at")],
    )


def latest(conn: sa.Connection, customer_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(sync_runs)
        .where(sync_runs.c.customer_id == customer_id)
        .order_by(sync_runs.c.started_at.desc(), sync_runs.c.id.desc())
        .limit(1)
    ).first()
    return dict(row._mapping) if row is not None else None


def for_run(conn: sa.Connection, customer_id: int, run_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(sync_runs).where(sync_runs.c.customer_id == customer_id, sync_runs.c.run_id == run_id)
    ).first()
    return dict(row._mapping) if row is not None else None
