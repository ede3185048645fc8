"""Read-only queries behind the asset checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from zuora_pipeline.warehouse import raw
from zuora_pipeline.warehouse.schema import customers, raw_workflow_exports, tasks, workflows


def listed_ids(conn: sa.Connection, customer_id: int) -> list[int]:
    ids: list[int] = []
    for body in raw.iter_page_bodies(conn, customer_id):
        ids.extend(int(item["id"]) for item in json.loads(body).get("data") or [])
    return ids


def live_ids(conn: sa.Connection, customer_id: int) -> list[int]:
    query = sa.select(workflows.c.zuora_id).where(
        workflows.c.customer_id == customer_id, workflows.c.deleted_at.is_(None)
    )
    return [int(x) for x in conn.execute(query).scalars()]


def duplicate_workflows(conn: sa.Connection, customer_id: int) -> int:
    dupes = (
        sa.select(workflows.c.zuora_id)
        .where(workflows.c.customer_id == customer_id)
        .group_by(workflows.c.zuora_id)
        .having(sa.func.count() > 1)
        .subquery()
    )
    return int(conn.execute(sa.select(sa.func.count()).select_from(dupes)).scalar_one())


def missing_required(conn: sa.Connection, customer_id: int) -> int:
    """Live rows without a name, or with an active version but no export at all."""
    query = (
        sa.select(sa.func.count())
        .select_from(workflows)
        .where(
            workflows.c.customer_id == customer_id,
            workflows.c.deleted_at.is_(None),
            sa.or_(
                workflows.c.name.is_(None),
                workflows.c.name == "",
                sa.and_(workflows.c.active_version.is_not(None), workflows.c.export_hash.is_(None)),
            ),
        )
    )
    return int(conn.execute(query).scalar_one())


def task_count_mismatches(conn: sa.Connection, customer_id: int) -> list[tuple[int, int, int]]:
    """(zuora id, tasks in the export, tasks stored) for each workflow whose counts differ."""
    stored = sa.func.count(tasks.c.id)
    query = (
        sa.select(workflows.c.zuora_id, raw_workflow_exports.c.task_count, stored)
        .select_from(
            workflows.join(
                raw_workflow_exports,
                sa.and_(
                    raw_workflow_exports.c.customer_id == workflows.c.customer_id,
                    raw_workflow_exports.c.zuora_id == workflows.c.zuora_id,
                    raw_workflow_exports.c.export_hash == workflows.c.export_hash,
                ),
            ).outerjoin(tasks, tasks.c.workflow_id == workflows.c.id)
        )
        .where(workflows.c.customer_id == customer_id)
        .group_by(workflows.c.zuora_id, raw_workflow_exports.c.task_count)
        .having(stored != raw_workflow_exports.c.task_count)
    )
    return [(int(a), int(b), int(c)) for a, b, c in conn.execute(query)]


def orphan_tasks(conn: sa.Connection) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(tasks.outerjoin(workflows, workflows.c.id == tasks.c.workflow_id))
        .where(workflows.c.id.is_(None))
    )
    return int(conn.execute(query).scalar_one())


def _utc(at: datetime | None) -> datetime | None:
    # SQLite keeps no time zone; every timestamp is written in UTC.
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def customer_syncs(conn: sa.Connection) -> list[tuple[str, str, datetime | None, str | None, datetime | None]]:
    """(name, sync status, last successful sync, paused reason, added at) of every customer."""
    query = sa.select(
        customers.c.name,
        customers.c.sync_status,
        customers.c.last_synced_at,
        customers.c.paused_reason,
        customers.c.created_at,
    ).order_by(customers.c.name)
    return [(name, status, _utc(at), reason, _utc(added)) for name, status, at, reason, added in conn.execute(query)]
