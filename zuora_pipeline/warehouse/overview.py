"""Each customer with its sync state and its live workflow and task counts (the browser's
customers page).

The counts come from the ``workflows`` rows and their current revisions (whose ``task_count`` is
the length of the export's task list), never from the ``tasks`` table: the query reads one row per
workflow, however many tasks they hold. The encrypted secret and the client id are never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import customers, workflow_revisions, workflows


@dataclass(frozen=True)
class CustomerSummary:
    id: int
    name: str
    display_name: str | None
    base_url: str
    sync_status: str
    paused_reason: str | None
    last_synced_at: datetime | None  # the last successful sync
    last_sync_status: str | None
    last_sync_error: str | None
    workflows: int  # live
    tasks: int  # in live workflows' current exports


def _counts(customer_id: int | None = None) -> sa.Subquery:
    w, r = workflows, workflow_revisions
    query = (
        sa.select(
            w.c.customer_id,
            sa.func.count().label("workflows"),
            sa.func.coalesce(sa.func.sum(r.c.task_count), 0).label("tasks"),
        )
        .select_from(
            w.outerjoin(
                r,
                sa.and_(
                    r.c.customer_id == w.c.customer_id,
                    r.c.workflow_zuora_id == w.c.zuora_id,
                    r.c.superseded_at.is_(None),
                ),
            )
        )
        .where(w.c.deleted_at.is_(None))
        .group_by(w.c.customer_id)
    )
    if customer_id is not None:
        query = query.where(w.c.customer_id == customer_id)
    return query.subquery("counts")


def summaries_query(customer_id: int | None = None) -> sa.Select:
    """Public so the bench can EXPLAIN exactly what the customers page runs."""
    c = customers
    counts = _counts(customer_id)
    query = (
        sa.select(
            c.c.id,
            c.c.name,
            c.c.display_name,
            c.c.base_url,
            c.c.sync_status,
            c.c.paused_reason,
            c.c.last_synced_at,
            c.c.last_sync_status,
            c.c.last_sync_error,
            sa.func.coalesce(counts.c.workflows, 0).label("workflows"),
            sa.func.coalesce(counts.c.tasks, 0).label("tasks"),
        )
        .select_from(c.outerjoin(counts, counts.c.customer_id == c.c.id))
        .order_by(c.c.name)
    )
    if customer_id is not None:
        query = query.where(c.c.id == customer_id)
    return query


def summaries(conn: sa.Connection) -> list[CustomerSummary]:
    return [CustomerSummary(**row._mapping) for row in conn.execute(summaries_query())]


def summary(conn: sa.Connection, name: str) -> CustomerSummary | None:
    found = conn.execute(sa.select(customers.c.id).where(customers.c.name == name)).scalar()
    if found is None:
        return None
    row = conn.execute(summaries_query(int(found))).one()
    return CustomerSummary(**row._mapping)
