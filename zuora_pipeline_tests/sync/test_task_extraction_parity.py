"""Tasks are extracted in PostgreSQL itself and in Python on SQLite: both give the same rows."""

from __future__ import annotations

import sqlalchemy as sa

from zuora_pipeline.sync.extract import extract_tasks
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.schema import tasks, workflows
from zuora_pipeline.warehouse.transactions import write_transaction

EXPORT = {
    "workflow": {"id": 9},
    "tasks": [
        {
            "id": 1,
            "name": "Start",
            "action_type": "Callout",
            "call_type": "",
            "object": None,
            "object_id": "",
            "task_id": None,
            "priority": "High",
            "parameters": {"url": "http://x"},
        },
        {"id": "2", "name": "", "action_type": "Logic::Case", "task_id": "1", "tags": ["a"]},
        {"id": 3, "name": "old copy", "action_type": "Email"},
        {"id": 3, "name": "last copy wins", "action_type": "Email", "priority": "Low"},
        {"id": 4, "name": "no params", "parameters": None},
    ],
    "linkages": [],
}
COLUMNS = (
    "name",
    "task_type",
    "action_type",
    "call_type",
    "object",
    "object_id",
    "parent_task_id",
    "priority",
    "data",
    "workflow_task_json",
)


def _extract(engine: sa.Engine, export: dict) -> tuple[dict[int, tuple], tuple[int, int, int]]:
    with write_transaction(engine) as conn:
        customer = customers.find(conn, "acme") or customers.add(
            conn, name="acme", base_url="https://rest.zuora.com", client_id="c" * 36, client_secret_encrypted="x"
        )
        existing = conn.execute(sa.select(workflows.c.id).where(workflows.c.zuora_id == 9)).scalar()
        values = {"json_export": export, "export_hash": str(hash(str(export)))}
        if existing is None:
            conn.execute(sa.insert(workflows).values(customer_id=customer.id, zuora_id=9, name="wf", **values))
        else:
            conn.execute(sa.update(workflows).where(workflows.c.id == existing).values(**values))
    result = extract_tasks(engine, customer=customer)
    with engine.connect() as conn:
        rows = {int(r.zuora_id): tuple(getattr(r, c) for c in COLUMNS) for r in conn.execute(sa.select(tasks))}
    return rows, (result.upserted, result.created, result.deleted)


def test_postgres_and_sqlite_extract_the_same_rows(pg_engine, sqlite_engine):
    pg_rows, pg_counts = _extract(pg_engine, EXPORT)
    sqlite_rows, sqlite_counts = _extract(sqlite_engine, EXPORT)

    assert pg_rows == sqlite_rows
    assert pg_counts == sqlite_counts == (4, 4, 0)
    assert pg_rows[3][0] == "last copy wins"
    assert pg_rows[2][:3] == (None, "Logic", "Logic::Case") and pg_rows[2][6] == 1
    assert pg_rows[1][3] is None and pg_rows[1][5] is None  # "" means unset

    shrunk = {**EXPORT, "tasks": EXPORT["tasks"][:2]}
    pg_after, pg_counts = _extract(pg_engine, shrunk)
    sqlite_after, sqlite_counts = _extract(sqlite_engine, shrunk)
    assert pg_after == sqlite_after and set(pg_after) == {1, 2}
    assert pg_counts == sqlite_counts == (2, 0, 2)
