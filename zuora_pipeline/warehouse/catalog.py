"""Reads of one customer's workflows and their tasks: the browser's list (search, filters, sort,
pages), one workflow with its tasks and stored export, and the exports written as files.

Every query is scoped to one customer and goes through ``ix_workflows_customer_id`` (or the
``(customer_id, zuora_id)`` unique index); task counts come from the current revision, never from
counting ``tasks`` rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.selectable import NamedFromClause

from zuora_pipeline.warehouse.schema import raw_workflow_exports, tasks, workflow_revisions, workflows

# Trigger filters -> the list entry's key (Zuora's list items are camelCase).
TRIGGERS = {"callout": "calloutTrigger", "ondemand": "ondemandTrigger", "scheduled": "scheduledTrigger"}
SORTS = ("name", "id", "state", "version", "tasks", "updated", "created")
STATES = ("Active", "Inactive")  # the only workflow statuses Zuora has
CHUNK = 200
_ESCAPE = "\\"


@dataclass(frozen=True)
class WorkflowFilter:
    text: str | None = None  # in the name or description, or the Zuora id itself
    state: str | None = None
    trigger: str | None = None  # a key of TRIGGERS
    changed_since: datetime | None = None  # Zuora's updatedAt
    include_deleted: bool = False


@dataclass(frozen=True)
class WorkflowRow:
    zuora_id: int
    name: str
    description: str | None
    state: str | None
    active_version: str | None
    task_count: int | None
    created_on: datetime | None
    updated_on: datetime | None
    deleted_at: datetime | None
    triggers: tuple[str, ...]


@dataclass(frozen=True)
class WorkflowDetail(WorkflowRow):
    id: int
    export_hash: str | None  # None: no export (Zuora has no active version)
    list_entry: dict[str, Any] | None
    last_synced_at: datetime | None


@dataclass(frozen=True)
class TaskRow:
    zuora_id: int
    name: str | None
    action_type: str | None
    call_type: str | None
    object: str | None
    priority: str | None
    parent_task_id: int | None
    parameters: Any


def _current_revision() -> NamedFromClause:
    return workflow_revisions.alias("current")


def _columns(current: NamedFromClause) -> list[Any]:
    w = workflows
    return [
        w.c.zuora_id,
        w.c.name,
        w.c.description,
        w.c.state,
        w.c.active_version,
        current.c.task_count,
        w.c.created_on,
        w.c.updated_on,
        w.c.deleted_at,
        *(w.c.list_entry[key].as_boolean().label(f"trigger_{name}") for name, key in TRIGGERS.items()),
    ]


def _current_of(current: NamedFromClause) -> Any:
    w = workflows
    return sa.and_(
        current.c.customer_id == w.c.customer_id,
        current.c.workflow_zuora_id == w.c.zuora_id,
        current.c.superseded_at.is_(None),
    )


def _from(current: NamedFromClause) -> Any:
    return workflows.outerjoin(current, _current_of(current))


def _row(row: sa.Row) -> dict[str, Any]:
    m = dict(row._mapping)
    triggers = tuple(name for name in TRIGGERS if m.pop(f"trigger_{name}"))
    m["zuora_id"] = int(m["zuora_id"])
    return {**m, "triggers": triggers}


def _like(text: str) -> str:
    escaped = text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"%{escaped}%"


def _filtered(query: sa.Select, customer_id: int, where: WorkflowFilter) -> sa.Select:
    w = workflows
    query = query.where(w.c.customer_id == customer_id)
    if not where.include_deleted:
        query = query.where(w.c.deleted_at.is_(None))
    if where.text:
        text = where.text.strip()
        found: list[sa.ColumnElement[bool]] = [
            w.c.name.ilike(_like(text), escape=_ESCAPE),
            w.c.description.ilike(_like(text), escape=_ESCAPE),
        ]
        if text.isdigit() and len(text) < 19:
            found.append(w.c.zuora_id == int(text))
        query = query.where(sa.or_(*found))
    if where.state:
        query = query.where(w.c.state == where.state)
    if where.trigger:
        query = query.where(w.c.list_entry[TRIGGERS[where.trigger]].as_boolean().is_(True))
    if where.changed_since is not None:
        query = query.where(w.c.updated_on >= where.changed_since)
    return query


def list_query(
    customer_id: int, where: WorkflowFilter, *, sort: str, descending: bool, offset: int, limit: int
) -> sa.Select:
    """The page's rows: first their keys, sorted and cut to the page (reading only the sort
    column and the filters' columns of the customer's rows), then the shown columns of those
    rows alone. Public so the bench can EXPLAIN exactly what the workflows page runs."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: one of {', '.join(SORTS)}")
    current = _current_revision()
    w = workflows
    key = {
        "name": w.c.name,
        "id": w.c.zuora_id,
        "state": w.c.state,
        "version": w.c.active_version,
        "tasks": current.c.task_count,
        "updated": w.c.updated_on,
        "created": w.c.created_on,
    }[sort]
    # The current revisions are joined to the keys only to sort by their task count.
    source = _from(current) if sort == "tasks" else w
    chosen = sa.select(w.c.id.label("pk"), w.c.zuora_id.label("zid"), key.label("sort_key")).select_from(source)
    chosen = _filtered(chosen, customer_id, where)
    keys = chosen.order_by(_ordered(key, descending), w.c.zuora_id).offset(offset).limit(limit).subquery("page")
    shown = _current_revision()
    return (
        sa.select(*_columns(shown))
        .select_from(keys.join(w, w.c.id == keys.c.pk).outerjoin(shown, _current_of(shown)))
        .order_by(_ordered(keys.c.sort_key, descending), keys.c.zid)
    )


def _ordered(key: Any, descending: bool) -> Any:
    return key.desc().nulls_last() if descending else key.asc().nulls_last()


def page(
    conn: sa.Connection,
    customer_id: int,
    where: WorkflowFilter,
    *,
    sort: str = "name",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> list[WorkflowRow]:
    query = list_query(customer_id, where, sort=sort, descending=descending, offset=offset, limit=limit)
    return [WorkflowRow(**_row(row)) for row in conn.execute(query)]


def count(conn: sa.Connection, customer_id: int, where: WorkflowFilter) -> int:
    query = _filtered(sa.select(sa.func.count()).select_from(workflows), customer_id, where)
    return int(conn.execute(query).scalar_one())


def detail(conn: sa.Connection, customer_id: int, zuora_id: int) -> WorkflowDetail | None:
    current = _current_revision()
    w = workflows
    query = sa.select(*_columns(current), w.c.id, w.c.export_hash, w.c.list_entry, w.c.last_synced_at).select_from(
        _from(current)
    )
    row = conn.execute(query.where(w.c.customer_id == customer_id, w.c.zuora_id == zuora_id)).first()
    return WorkflowDetail(**_row(row)) if row is not None else None


def task_rows(conn: sa.Connection, workflow_pk: int) -> list[TaskRow]:
    t = tasks
    query = (
        sa.select(
            t.c.zuora_id,
            t.c.name,
            t.c.action_type,
            t.c.call_type,
            t.c.object,
            t.c.priority,
            t.c.parent_task_id,
            t.c.data.label("parameters"),
        )
        .where(t.c.workflow_id == workflow_pk)
        .order_by(t.c.zuora_id)
    )
    return [TaskRow(**row._mapping) for row in conn.execute(query)]


def stored_export_bytes(conn: sa.Connection, customer_id: int, zuora_id: int, export_hash: str) -> bytes | None:
    """The current export exactly as Zuora sent it (the raw landing row), if it is the one the
    workflow row holds."""
    raw = raw_workflow_exports
    content = conn.execute(
        sa.select(raw.c.content).where(
            raw.c.customer_id == customer_id, raw.c.zuora_id == zuora_id, raw.c.export_hash == export_hash
        )
    ).scalar()
    return None if content is None else content.encode("utf-8")


def live_ids(conn: sa.Connection, customer_id: int) -> list[int]:
    query = sa.select(workflows.c.zuora_id).where(
        workflows.c.customer_id == customer_id, workflows.c.deleted_at.is_(None)
    )
    return sorted(int(zid) for zid in conn.execute(query).scalars())


def documents(conn: sa.Connection, customer_id: int, zuora_ids: Sequence[int]) -> Iterator[sa.Row]:
    """(zuora_id, name, state, active_version, json_export) of these workflows, in id order and
    fetched a chunk at a time, so 10,000 exports are never in memory at once."""
    w = workflows
    ordered = sorted(zuora_ids)
    for start in range(0, len(ordered), CHUNK):
        query = (
            sa.select(w.c.zuora_id, w.c.name, w.c.state, w.c.active_version, w.c.json_export)
            .where(w.c.customer_id == customer_id, w.c.zuora_id.in_(ordered[start : start + CHUNK]))
            .order_by(w.c.zuora_id)
        )
        yield from conn.execute(query)
