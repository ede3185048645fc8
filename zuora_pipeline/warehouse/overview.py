"""Each customer with its sync state and its live workflow and task counts (the browser's
customers page).

The counts come from the ``workflows`` rows and their current revisions (whose ``task_count`` is
the length of the export's task list), never from the ``tasks`` table: they read one row per
workflow, however many tasks there are. They change only when a sync changes a workflow, and every
such sync logs it, so each customer's latest logged change (``changed_at``) tells a reader whether
counts it holds are still current. The encrypted secret and the client id are never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import customers, workflow_changes, workflow_revisions, workflows


@dataclass(frozen=True)
class CustomerState:
    id: int
    name: str
    display_name: str | None
    base_url: str
    sync_status: str
    paused_reason: str | None
    last_synced_at: datetime | None  # the last successful sync
    last_sync_status: str | None
    last_sync_error: str | None
    changed_at: datetime | None  # the latest logged change of one of its workflows


@dataclass(frozen=True)
class CustomerSummary(CustomerState):
    workflows: int  # live
    tasks: int  # in live workflows' current exports


def _states_query() -> sa.Select:
    c, h = customers, workflow_changes
    latest = sa.select(sa.func.max(h.c.changed_at)).where(h.c.customer_id == c.c.id).scalar_subquery()
    return sa.select(
        c.c.id,
        c.c.name,
        c.c.display_name,
        c.c.base_url,
        c.c.sync_status,
        c.c.paused_reason,
        c.c.last_synced_at,
        c.c.last_sync_status,
        c.c.last_sync_error,
        latest.label("changed_at"),
    ).order_by(c.c.name)


def states(conn: sa.Connection) -> list[CustomerState]:
    return [CustomerState(**row._mapping) for row in conn.execute(_states_query())]


def state(conn: sa.Connection, name: str) -> CustomerState | None:
    row = conn.execute(_states_query().where(customers.c.name == name)).first()
    return CustomerState(**row._mapping) if row is not None else None


def counts_query(customer_ids: Sequence[int]) -> sa.Select:
    """Public so the bench can EXPLAIN exactly what the customers page runs."""
    w, r = workflows, workflow_revisions
    return (
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
        .where(w.c.deleted_at.is_(None), w.c.customer_id.in_(list(customer_ids)))
        .group_by(w.c.customer_id)
    )


def counts(conn: sa.Connection, customer_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(live workflows, their tasks) of each customer; (0, 0) for one without workflows."""
    found = (
        {int(cid): (int(n), int(t)) for cid, n, t in conn.execute(counts_query(customer_ids))} if customer_ids else {}
    )
    return {int(cid): found.get(int(cid), (0, 0)) for cid in customer_ids}
