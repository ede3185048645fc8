"""Writes of the ``tasks`` table: tasks follow their workflow's stored export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import task_search_text, tasks, workflow_search_texts, workflows
from zuora_pipeline.warehouse.upsert import upsert


def workflows_to_extract(
    conn: sa.Connection,
    *,
    customer_id: int | None = None,
    workflow_zuora_id: int | None = None,
    everything: bool = False,
) -> list[int]:
    """Primary keys of workflows whose tasks are behind their stored export (all, if
    ``everything``), optionally narrowed to one customer or one Zuora workflow id."""
    query = sa.select(workflows.c.id).where(workflows.c.export_hash.is_not(None))
    if customer_id is not None:
        query = query.where(workflows.c.customer_id == customer_id)
    if workflow_zuora_id is not None:
        query = query.where(workflows.c.zuora_id == workflow_zuora_id)
    if not everything:
        query = query.where(workflows.c.tasks_export_hash.is_distinct_from(workflows.c.export_hash))
    return list(conn.execute(query.order_by(workflows.c.id)).scalars())


def load_exports(conn: sa.Connection, workflow_ids: Sequence[int]) -> list[tuple[int, int, str, Any]]:
    """(id, zuora_id, export_hash, json_export) for a chunk of workflows."""
    query = sa.select(workflows.c.id, workflows.c.zuora_id, workflows.c.export_hash, workflows.c.json_export).where(
        workflows.c.id.in_(list(workflow_ids))
    )
    return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]


def existing_task_keys(conn: sa.Connection, workflow_ids: Sequence[int]) -> list[tuple[int, int, int]]:
    """(task id, workflow id, zuora id) of the tasks stored for these workflows."""
    query = sa.select(tasks.c.id, tasks.c.workflow_id, tasks.c.zuora_id).where(
        tasks.c.workflow_id.in_(list(workflow_ids))
    )
    return [(int(a), int(b), int(c)) for a, b, c in conn.execute(query)]


def upsert_tasks(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> int:
    if not rows:
        return 0
    keys = ("workflow_id", "zuora_id")
    # created_at keeps the first time we saw the task.
    update = [c for c in rows[0] if c not in (*keys, "created_at")]
    return upsert(conn, tasks, rows, keys=keys, update=update)


def count_for_customer(conn: sa.Connection, customer_id: int) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(tasks.join(workflows, workflows.c.id == tasks.c.workflow_id))
        .where(workflows.c.customer_id == customer_id)
    )
    return int(conn.execute(query).scalar_one())


def delete_tasks(conn: sa.Connection, task_ids: Sequence[int]) -> int:
    if not task_ids:
        return 0
    total = 0
    for start in range(0, len(task_ids), 1000):
        total += (
            conn.execute(sa.delete(tasks).where(tasks.c.id.in_(list(task_ids[start : start + 1000])))).rowcount or 0
        )
    return total


def mark_extracted(conn: sa.Connection, workflow_ids: Sequence[int]) -> None:
    """Record that these workflows' tasks follow their export, and refresh the search text of
    their tasks: the one place tasks change, so search never sees stale text."""
    conn.execute(
        sa.update(workflows)
        .where(workflows.c.id.in_(list(workflow_ids)))
        .values(tasks_export_hash=workflows.c.export_hash)
    )
    refresh_search_text(conn, workflow_ids)


def refresh_search_text(conn: sa.Connection, workflow_ids: Sequence[int]) -> None:
    """Rewrite the joined search text of these workflows' tasks (none for a workflow without
    tasks). Public for writers of ``tasks`` other than the extraction (the bench plants hits)."""
    ids = list(workflow_ids)
    text = sa.literal_column(task_search_text("tasks."), type_=sa.Text)
    separator: sa.ColumnElement[str] = sa.literal_column("' '")
    joined = (
        sa.func.string_agg(text, separator)
        if conn.dialect.name == "postgresql"
        else sa.func.group_concat(text, separator)
    )
    conn.execute(sa.delete(workflow_search_texts).where(workflow_search_texts.c.workflow_id.in_(ids)))
    select = sa.select(tasks.c.workflow_id, joined).where(tasks.c.workflow_id.in_(ids)).group_by(tasks.c.workflow_id)
    conn.execute(sa.insert(workflow_search_texts).from_select(["workflow_id", "tasks_search_text"], select))


# PostgreSQL extracts tasks from the stored JSONB itself: the exports never travel to Python and
# back. The mapping is the one of logic/task_rows.py (kept in step by the same end-to-end tests):
# "" and null are unset, task_type is the action_type family before "::", a task id repeated in
# one export keeps its last occurrence.
_PG_TASKS = """
WITH src AS (
    SELECT w.id AS workflow_id, e.task, e.pos
    FROM workflows AS w
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(w.json_export -> 'tasks') = 'array' THEN w.json_export -> 'tasks'
             ELSE '[]'::jsonb END
    ) WITH ORDINALITY AS e(task, pos)
    WHERE w.id = ANY(:ids)
), latest AS (
    SELECT DISTINCT ON (workflow_id, (task ->> 'id')::bigint) workflow_id, task
    FROM src
    ORDER BY workflow_id, (task ->> 'id')::bigint, pos DESC
)
INSERT INTO tasks (workflow_id, zuora_id, name, task_type, action_type, call_type, object,
                   object_id, parent_task_id, priority, data, workflow_task_json, created_at,
                   updated_at)
SELECT workflow_id, (task ->> 'id')::bigint, NULLIF(task ->> 'name', ''),
       NULLIF(split_part(task ->> 'action_type', '::', 1), ''), NULLIF(task ->> 'action_type', ''),
       NULLIF(task ->> 'call_type', ''), NULLIF(task ->> 'object', ''),
       NULLIF(task ->> 'object_id', ''), NULLIF(task ->> 'task_id', '')::bigint,
       NULLIF(task ->> 'priority', ''), COALESCE(task -> 'parameters', 'null'::jsonb), task,
       :now, :now
FROM latest
ON CONFLICT (workflow_id, zuora_id) DO UPDATE SET
    name = EXCLUDED.name, task_type = EXCLUDED.task_type, action_type = EXCLUDED.action_type,
    call_type = EXCLUDED.call_type, object = EXCLUDED.object, object_id = EXCLUDED.object_id,
    parent_task_id = EXCLUDED.parent_task_id, priority = EXCLUDED.priority, data = EXCLUDED.data,
    workflow_task_json = EXCLUDED.workflow_task_json, updated_at = EXCLUDED.updated_at
RETURNING (xmax = 0) AS inserted
"""

# The same rows for workflows with no stored task yet: nothing to conflict with, nothing to return.
_PG_TASKS_FIRST_LOAD = _PG_TASKS.split("ON CONFLICT", maxsplit=1)[0]

_PG_TASK_WITHOUT_ID = """
SELECT w.zuora_id, e.pos - 1
FROM workflows AS w
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(w.json_export -> 'tasks') = 'array' THEN w.json_export -> 'tasks'
         ELSE '[]'::jsonb END
) WITH ORDINALITY AS e(task, pos)
WHERE w.id = ANY(:ids) AND COALESCE(e.task ->> 'id', '') = ''
LIMIT 1
"""


def extract_in_database(conn: sa.Connection, workflow_ids: Sequence[int], now: datetime) -> tuple[int, int, int]:
    """PostgreSQL only: upsert the tasks of these workflows from their stored exports and delete
    the tasks their exports no longer have. Returns (upserted, created, deleted)."""
    ids = list(workflow_ids)
    missing = conn.execute(sa.text(_PG_TASK_WITHOUT_ID), {"ids": ids}).first()
    if missing is not None:
        raise ValueError(f"workflow {missing[0]}: task #{missing[1]} has no 'id' (required field)")
    has_tasks = conn.execute(sa.select(sa.exists().where(tasks.c.workflow_id.in_(ids)))).scalar()
    if not has_tasks:
        # A first load (no task of these workflows is stored): a plain INSERT, with no conflict
        # check per row, no RETURNING and nothing to delete. A sync holds the customer's lock, so
        # no other extraction inserts these tasks in between; one that did anyway (a
        # customer-less re-extraction at the same moment) makes this fail on the unique key.
        created = conn.execute(sa.text(_PG_TASKS_FIRST_LOAD), {"ids": ids, "now": now}).rowcount or 0
        return created, created, 0
    inserted = conn.execute(sa.text(_PG_TASKS), {"ids": ids, "now": now}).scalars().all()
    # Every task still in its export was just written with updated_at = now.
    deleted = conn.execute(sa.delete(tasks).where(tasks.c.workflow_id.in_(ids), tasks.c.updated_at != now)).rowcount
    return len(inserted), sum(1 for flag in inserted if flag), deleted or 0
