"""Writes are batched: the INSERT statements of a sync grow with batches, not with rows."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.warehouse import upsert


def _count_inserts(engine: sa.Engine, run: Any) -> Counter[str]:
    counts: Counter[str] = Counter()

    def listener(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        # Anywhere in the statement: PostgreSQL extracts tasks with a WITH ... INSERT INTO tasks.
        match = re.search(r'INSERT INTO "?(\w+)', statement.upper())
        if match:
            counts[match.group(1)] += 1

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return counts


def test_insert_statements_grow_with_batches_not_rows(pipeline: Any, sim_tenant: Any) -> None:
    tenant = sim_tenant(workflows=120, tasks=8)
    name = pipeline.add_customer(tenant)
    counts = _count_inserts(pipeline.engine, lambda: pipeline.sync(name))
    rows = pipeline.rows(name)
    tasks = sum(len(r["tasks"]) for r in rows.values())
    assert tasks > 500 and len(rows) == 120
    # ~900 task rows and 120 workflows, each table written in a handful of statements.
    assert 1 <= counts["TASKS"] <= 2 + tasks // upsert.BATCH_SIZE
    assert counts["WORKFLOWS"] <= 2
    # Exports are staged batch by batch, then promoted with one INSERT ... SELECT.
    assert counts["RAW_EXPORT_STAGING"] <= 2 + 120 // 100
    assert counts["RAW_WORKFLOW_EXPORTS"] <= 2
    assert counts["RAW_WORKFLOW_PAGES"] <= 2 + 120 // 100
