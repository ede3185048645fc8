"""Pages of the change log (the browser's changes page and a workflow's history): what
``history.changes`` returns, a page at a time, newest first, read through the
``changed_at`` indexes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from zuora_pipeline.warehouse.history import Change
from zuora_pipeline.warehouse.schema import customers, workflow_changes

KINDS = ("created", "updated", "deleted", "restored")


def _select() -> sa.Select:
    h, c = workflow_changes, customers
    return (
        sa.select(
            c.c.name.label("customer"),
            h.c.workflow_zuora_id.label("workflow_id"),
            h.c.workflow_name,
            h.c.change,
            h.c.revision,
            h.c.previous_revision,
            h.c.summary,
            h.c.run_id,
            h.c.changed_at,
        )
        .join(c, c.c.id == h.c.customer_id)
        .order_by(h.c.changed_at.desc(), h.c.id.desc())
    )


def page_query(
    *,
    customer_ids: Sequence[int] | None,
    kinds: Sequence[str] | None,
    since: datetime | None,
    offset: int,
    limit: int,
) -> sa.Select:
    """Public so the bench can EXPLAIN exactly what the changes page runs."""
    h = workflow_changes
    query = _select()
    if customer_ids is not None:
        query = query.where(h.c.customer_id.in_(list(customer_ids)))
    if kinds:
        query = query.where(h.c.change.in_(list(kinds)))
    if since is not None:
        query = query.where(h.c.changed_at >= since)
    return query.offset(offset).limit(limit)


def page(
    conn: sa.Connection,
    *,
    customer_ids: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
    since: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[Change]:
    query = page_query(customer_ids=customer_ids, kinds=kinds, since=since, offset=offset, limit=limit)
    return [Change(**row._mapping) for row in conn.execute(query)]


def of_workflow(conn: sa.Connection, customer_id: int, zuora_id: int) -> list[Change]:
    """Every change logged for one workflow, newest first."""
    h = workflow_changes
    query = _select().where(h.c.customer_id == customer_id, h.c.workflow_zuora_id == zuora_id)
    return [Change(**row._mapping) for row in conn.execute(query)]
