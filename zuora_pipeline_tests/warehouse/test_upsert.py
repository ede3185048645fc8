"""Bulk, idempotent writes: statements grow with batches, not rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.schema import workflows
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline.warehouse.upsert import upsert


def _customer(engine) -> int:
    with write_transaction(engine) as conn:
        return customers.add(
            conn, name="acme", base_url="https://rest.zuora.com", client_id="c" * 36, client_secret_encrypted="x"
        ).id


def _rows(customer_id: int, n: int, name: str) -> list[dict]:
    return [{"customer_id": customer_id, "zuora_id": i, "name": f"{name} {i}"} for i in range(n)]


@pytest.fixture(params=["postgres", "sqlite"])
def engine(request):
    return request.getfixturevalue("pg_engine" if request.param == "postgres" else "sqlite_engine")


def test_upsert_is_idempotent_and_batched(engine):
    customer_id = _customer(engine)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO WORKFLOWS"):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with write_transaction(engine) as conn:
            upsert(
                conn, workflows, _rows(customer_id, 2500, "first"), keys=["customer_id", "zuora_id"], batch_size=1000
            )
        with write_transaction(engine) as conn:
            upsert(
                conn, workflows, _rows(customer_id, 2500, "second"), keys=["customer_id", "zuora_id"], batch_size=1000
            )
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    assert len(statements) == 6, "2,500 rows in batches of 1,000 must take 3 statements per upsert"
    with engine.connect() as conn:
        names = conn.execute(sa.select(workflows.c.name)).scalars().all()
    assert len(names) == 2500
    assert all(n.startswith("second") for n in names)


def test_a_failed_transaction_leaves_the_previous_state(engine):
    customer_id = _customer(engine)
    with write_transaction(engine) as conn:
        upsert(conn, workflows, _rows(customer_id, 10, "kept"), keys=["customer_id", "zuora_id"])
    with pytest.raises(RuntimeError), write_transaction(engine) as conn:
        upsert(conn, workflows, _rows(customer_id, 20, "lost"), keys=["customer_id", "zuora_id"])
        raise RuntimeError("crash mid-asset")
    with engine.connect() as conn:
        names = conn.execute(sa.select(workflows.c.name)).scalars().all()
    assert sorted(names) == sorted(f"kept {i}" for i in range(10))
