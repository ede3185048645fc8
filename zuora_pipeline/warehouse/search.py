"""``search``: live workflows whose name, and tasks whose name or parameters, contain a text,
across customers.

The match is a case-insensitive substring (``ILIKE '%text%'``) of the workflow's name, and of the
task's name and of its parameters as JSON text. For tasks, the workflows whose tasks' joined search
text contains it come first: on PostgreSQL from the ``ix_workflow_search_texts_tasks_search_text``
trigram index (three characters or more), and only their tasks are matched one by one; SQLite
scans. Workflow names are matched by scanning the live workflows' names: no index on
``workflows``, whose every row each sync rewrites (``bench search`` measures the scan). Where it
matched is worked out here, per hit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import customers, task_search_text, tasks, workflow_search_texts, workflows

DEFAULT_LIMIT = 1000
_ESCAPE = "\\"


WORKFLOW_NAME = "workflow_name"  # where a workflow's own hit matched


@dataclass(frozen=True)
class Hit:
    """A task that matched, or a workflow whose name matched (no task: ``task_id`` None)."""

    customer: str
    workflow_id: int
    workflow_name: str
    task_id: int | None
    task_name: str | None
    action_type: str | None
    matched: tuple[str, ...]  # "workflow_name", "name", "parameters.url", ...

    def sort_key(self) -> tuple[str, str, int, int]:
        """Customer, workflow, the workflow's own hit before its tasks' hits, task id."""
        return (self.customer, self.workflow_name, self.workflow_id, -1 if self.task_id is None else self.task_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "workflow_id": self.workflow_id,
            "workflow_name": self.workflow_name,
            "task_id": self.task_id,
            "task_name": self.task_name,
            "action_type": self.action_type,
            "matched": list(self.matched),
        }


def _like_pattern(text: str) -> str:
    escaped = text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"%{escaped}%"


def _paths(value: Any, needle: str, path: str) -> Iterator[str]:
    """Where in a parameters document ``needle`` (casefolded) occurs: keys or string values."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}"
            if needle in str(key).casefold():
                yield child
            yield from _paths(item, needle, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, needle, f"{path}[{index}]")
    elif value is not None and needle in str(value).casefold():
        yield path


def stored_action_types(conn: sa.Connection) -> list[str]:
    """The action types the stored tasks carry (a tenant may use one Zuora has not documented)."""
    query = sa.select(tasks.c.action_type).where(tasks.c.action_type.is_not(None)).distinct()
    return sorted(conn.execute(query).scalars())


def search(
    conn: sa.Connection,
    text: str,
    *,
    customer_ids: Sequence[int] | None = None,
    action_type: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Hit]:
    """At most ``limit`` hits in (customer, workflow name, workflow id, task id) order; workflows
    whose name matches are hits of their own unless ``action_type`` asks for tasks of a type."""
    if not text.strip():
        raise ValueError("search text is empty")
    pattern = _like_pattern(text)
    found = _task_hits(conn, text, pattern, customer_ids, action_type, limit)
    if action_type is None:
        found += _workflow_hits(conn, pattern, customer_ids, limit)
    return sorted(found, key=Hit.sort_key)[:limit]


def _workflow_hits(conn: sa.Connection, pattern: str, customer_ids: Sequence[int] | None, limit: int) -> list[Hit]:
    w, c = workflows, customers
    query = (
        sa.select(c.c.name, w.c.zuora_id, w.c.name)
        .select_from(w.join(c, c.c.id == w.c.customer_id))
        .where(w.c.deleted_at.is_(None), w.c.name.ilike(pattern, escape=_ESCAPE))
        .order_by(c.c.name, w.c.name, w.c.zuora_id)
        .limit(limit)
    )
    if customer_ids is not None:
        query = query.where(w.c.customer_id.in_(list(customer_ids)))
    return [
        Hit(customer, int(workflow_id), name, None, None, None, (WORKFLOW_NAME,))
        for customer, workflow_id, name in conn.execute(query)
    ]


def _task_hits(
    conn: sa.Connection,
    text: str,
    pattern: str,
    customer_ids: Sequence[int] | None,
    action_type: str | None,
    limit: int,
) -> list[Hit]:
    t, w, c = tasks, workflows, customers
    haystack = sa.literal_column(task_search_text("tasks."), type_=sa.Text)
    query = (
        sa.select(c.c.name, w.c.zuora_id, w.c.name, t.c.zuora_id, t.c.name, t.c.action_type, t.c.data)
        .select_from(
            t.join(w, w.c.id == t.c.workflow_id)
            .join(c, c.c.id == w.c.customer_id)
            .join(workflow_search_texts, workflow_search_texts.c.workflow_id == w.c.id)
        )
        .where(
            w.c.deleted_at.is_(None),
            # Implied by the task's own match (its text is part of the workflow's): it is there
            # so the index narrows the search to the workflows that can have hits.
            workflow_search_texts.c.tasks_search_text.ilike(pattern, escape=_ESCAPE),
            haystack.ilike(pattern, escape=_ESCAPE),
        )
        .order_by(c.c.name, w.c.name, w.c.zuora_id, t.c.zuora_id)
        .limit(limit)
    )
    if customer_ids is not None:
        query = query.where(w.c.customer_id.in_(list(customer_ids)))
    if action_type is not None:
        query = query.where(t.c.action_type == action_type)
    needle = text.casefold()
    hits = []
    for customer, workflow_id, workflow_name, task_id, task_name, action, data in conn.execute(query):
        matched = (["name"] if task_name and needle in task_name.casefold() else []) + list(
            _paths(data, needle, "parameters")
        )
        hits.append(
            Hit(
                customer,
                int(workflow_id),
                workflow_name,
                int(task_id),
                task_name,
                action,
                tuple(matched or ["parameters"]),
            )
        )
    return hits
