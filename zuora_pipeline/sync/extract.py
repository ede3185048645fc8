"""Step 4 of a sync: extract tasks from the stored exports (no API call, ever).

Only workflows whose export changed since their tasks were last extracted are processed, in
chunks, so memory stays bounded however many workflows a customer has. PostgreSQL extracts the
tasks from the stored JSONB itself (warehouse/tasks.extract_in_database); SQLite reads the exports
into Python and maps them with logic/task_rows.py. A parity test keeps the two equal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.logic.stats import Stats
from zuora_pipeline.logic.task_rows import task_rows
from zuora_pipeline.warehouse import tasks as task_table
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.transactions import write_transaction

CHUNK = 200


@dataclass
class TasksResult:
    workflows: int = 0
    upserted: int = 0
    created: int = 0
    deleted: int = 0
    total: int = 0
    duration_s: float = 0.0

    def counts(self) -> Stats:
        """The tasks' counts (an upserted task that existed was updated; the rest are unchanged)."""
        return Stats(
            created=self.created,
            updated=self.upserted - self.created,
            unchanged=max(self.total - self.upserted, 0),
            deleted=self.deleted,
            total=self.total,
        )


def extract_tasks(
    engine: sa.Engine,
    *,
    customer: Customer | None = None,
    workflow_zuora_id: int | None = None,
    everything: bool = False,
    chunk: int = CHUNK,
    on_commit: Callable[[sa.Connection, TasksResult], None] | None = None,
) -> TasksResult:
    """The tasks of one customer's workflows (its caller holds the customer's sync lock), or of
    one Zuora workflow id in every customer. What ``on_commit`` writes (the sync record) commits
    with the tasks."""
    started = time.monotonic()
    now = datetime.now(UTC)
    result = TasksResult()
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            # The chunk statements' estimates (100 rows guessed per jsonb_array_elements, a tasks
            # table loaded since its last ANALYZE) pass jit_above_cost, and compiling them cost
            # more than running them: ~3.5 of 13 s of server CPU for 200,000 tasks.
            conn.execute(sa.text("SET LOCAL jit = off"))
        ids = task_table.workflows_to_extract(
            conn,
            customer_id=customer.id if customer is not None else None,
            workflow_zuora_id=workflow_zuora_id,
            everything=everything,
        )
        for start in range(0, len(ids), chunk):
            batch = ids[start : start + chunk]
            if conn.dialect.name == "postgresql":
                upserted, created, deleted = task_table.extract_in_database(conn, batch, now)
                result.upserted += upserted
                result.created += created
                result.deleted += deleted
                task_table.mark_extracted(conn, batch)
                result.workflows += len(batch)
            else:
                _extract_chunk(conn, batch, now, result)
        if customer is not None:
            result.total = task_table.count_for_customer(conn, customer.id)
        if on_commit is not None:
            on_commit(conn, result)
    result.duration_s = time.monotonic() - started
    return result


def _extract_chunk(conn: sa.Connection, ids: list[int], now: datetime, result: TasksResult) -> None:
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for workflow_pk, zuora_id, _hash, document in task_table.load_exports(conn, ids):
        for task in task_rows(document or {}, workflow_id=zuora_id):
            # A duplicated task id inside one export: the last one wins, as a re-import would.
            rows[(workflow_pk, task.zuora_id)] = {
                "workflow_id": workflow_pk,
                "zuora_id": task.zuora_id,
                "name": task.name,
                "task_type": task.task_type,
                "action_type": task.action_type,
                "call_type": task.call_type,
                "object": task.object,
                "object_id": task.object_id,
                "parent_task_id": task.parent_task_id,
                "priority": task.priority,
                "data": task.data,
                "workflow_task_json": task.workflow_task_json,
                "created_at": now,
                "updated_at": now,
            }
    existing = task_table.existing_task_keys(conn, ids)
    stale = [task_pk for task_pk, workflow_pk, zuora_id in existing if (workflow_pk, zuora_id) not in rows]
    result.created += len(rows.keys() - {(workflow_pk, zuora_id) for _, workflow_pk, zuora_id in existing})
    result.deleted += task_table.delete_tasks(conn, stale)
    result.upserted += task_table.upsert_tasks(conn, list(rows.values()))
    task_table.mark_extracted(conn, ids)
    result.workflows += len(ids)
