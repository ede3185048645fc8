"""``search`` narrows to workflows by their tasks' joined search text (the per-workflow trigram
index on PostgreSQL); that text is written with the tasks, so search follows every extraction."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from zuora_pipeline.sync.extract import extract_tasks
from zuora_pipeline.warehouse import customers, search
from zuora_pipeline.warehouse.schema import workflows
from zuora_pipeline.warehouse.transactions import write_transaction


def _export(url: str) -> dict[str, Any]:
    return {
        "workflow": {"id": 9},
        "tasks": [
            {"id": 1, "name": "Call billing", "action_type": "Callout", "parameters": {"url": url}},
            {"id": 2, "name": "Notify", "action_type": "Email", "parameters": {"to": "ops@example.com"}},
        ],
        "linkages": [],
    }


def _store(engine: sa.Engine, export: dict[str, Any]) -> customers.Customer:
    with write_transaction(engine) as conn:
        customer = customers.find(conn, "acme") or customers.add(
            conn, name="acme", base_url="https://rest.zuora.com", client_id="c" * 36, client_secret_encrypted="x"
        )
        values = {"json_export": export, "export_hash": str(hash(str(export)))}
        existing = conn.execute(sa.select(workflows.c.id).where(workflows.c.zuora_id == 9)).scalar()
        if existing is None:
            conn.execute(sa.insert(workflows).values(customer_id=customer.id, zuora_id=9, name="wf", **values))
        else:
            conn.execute(sa.update(workflows).where(workflows.c.id == existing).values(**values))
    return customer


def _hits(engine: sa.Engine, text: str) -> list[tuple[int | None, tuple[str, ...]]]:
    with engine.connect() as conn:
        return [(hit.task_id, hit.matched) for hit in search.search(conn, text)]


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_search_follows_the_tasks_of_each_extraction(dialect: str, request: pytest.FixtureRequest) -> None:
    engine = request.getfixturevalue("pg_engine" if dialect == "postgresql" else "sqlite_engine")
    customer = _store(engine, _export("https://old-host.example.com/hook"))
    extract_tasks(engine, customer=customer)
    assert _hits(engine, "OLD-HOST") == [(1, ("parameters.url",))]
    assert _hits(engine, "ops@example") == [(2, ("parameters.to",))]

    _store(engine, _export("https://new-host.example.com/hook"))
    extract_tasks(engine, customer=customer)
    assert _hits(engine, "old-host") == []
    assert _hits(engine, "new-host") == [(1, ("parameters.url",))]
    # A text spanning two tasks is in the workflow's joined text but in no task: no hit.
    assert _hits(engine, '"} Notify') == []


def test_postgres_search_reads_the_workflow_trigram_index(pg_engine: sa.Engine) -> None:
    customer = _store(pg_engine, _export("https://old-host.example.com/hook"))
    extract_tasks(pg_engine, customer=customer)
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "ILIKE" in statement:
            statements.append((statement, parameters))

    sa.event.listen(pg_engine, "before_cursor_execute", capture)
    try:
        assert _hits(pg_engine, "old-host") == [(1, ("parameters.url",))]
    finally:
        sa.event.remove(pg_engine, "before_cursor_execute", capture)
    # The workflow-name match is a statement of its own; this is the tasks' one.
    [(statement, parameters)] = [(s, p) for s, p in statements if "workflow_search_texts" in s]
    with pg_engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert "ix_workflow_search_texts_tasks_search_text" in plan, plan


def test_the_trigram_index_is_off_the_workflows_table(pg_engine: sa.Engine) -> None:
    """Each sync updates every live ``workflows`` row: an index there would be rewritten each time."""
    indexes = {i["name"] for i in sa.inspect(pg_engine).get_indexes("workflows")}
    assert not {name for name in indexes if "search" in name}
    assert "ix_workflow_search_texts_tasks_search_text" in {
        i["name"] for i in sa.inspect(pg_engine).get_indexes("workflow_search_texts")
    }


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_workflow_names_are_searched_too(dialect: str, request: pytest.FixtureRequest) -> None:
    engine = request.getfixturevalue("pg_engine" if dialect == "postgresql" else "sqlite_engine")
    customer = _store(engine, _export("https://hooks.example.com/wf"))
    extract_tasks(engine, customer=customer)
    with engine.begin() as conn:
        conn.execute(sa.update(workflows).values(name="Notify billing_ops 100% of the time"))

    # The workflow's own hit comes before its tasks' hits; % and _ are literal here too.
    assert _hits(engine, "BILLING_OPS 100%") == [(None, ("workflow_name",))]
    assert _hits(engine, "billing") == [(None, ("workflow_name",)), (1, ("name",))]
    with engine.connect() as conn:
        (hit,) = search.search(conn, "100%")
        assert hit.to_json() == {
            "customer": "acme",
            "workflow_id": 9,
            "workflow_name": "Notify billing_ops 100% of the time",
            "task_id": None,
            "task_name": None,
            "action_type": None,
            "matched": ["workflow_name"],
        }
        # Asking for tasks of a type leaves workflows out.
        assert [h.task_id for h in search.search(conn, "billing", action_type="Callout")] == [1]
        # The limit counts both kinds of hits.
        assert [h.task_id for h in search.search(conn, "billing", limit=1)] == [None]
    with engine.begin() as conn:
        conn.execute(sa.update(workflows).values(deleted_at=sa.func.current_timestamp()))
    assert _hits(engine, "billing_ops") == []


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_stored_action_types(dialect: str, request: pytest.FixtureRequest) -> None:
    engine = request.getfixturevalue("pg_engine" if dialect == "postgresql" else "sqlite_engine")
    export = _export("https://hooks.example.com/x")
    export["tasks"][1]["action_type"] = "Future::Thing"
    extract_tasks(engine, customer=_store(engine, export))
    with engine.connect() as conn:
        assert search.stored_action_types(conn) == ["Callout", "Future::Thing"]
