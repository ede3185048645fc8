"""Migration 0003 seeds the history from the current state, so the first diff after upgrading
has a base."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from zuora_pipeline.warehouse import migrate
from zuora_pipeline.warehouse.engine import create_warehouse_engine
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.fixtures.warehouse import PG_SERVER


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_at_0002(request: pytest.FixtureRequest, tmp_path) -> Iterator[sa.Engine]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        engine = create_warehouse_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
        yield from _at_0002(engine)
        return
    name = f"zp_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield from _at_0002(create_warehouse_engine(f"{PG_SERVER}/{name}"))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _at_0002(engine: sa.Engine) -> Iterator[sa.Engine]:
    cfg = migrate._alembic_config()
    with write_transaction(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    try:
        yield engine
    finally:
        engine.dispose()


def test_upgrade_seeds_revision_1_of_every_workflow(engine_at_0002: sa.Engine) -> None:
    export = {"workflow": {"id": 5}, "tasks": [{"id": 1}, {"id": 2}], "linkages": []}
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with engine_at_0002.begin() as conn:
        customer_id = conn.execute(
            sa.text(
                "INSERT INTO customers (name, base_url, client_id, client_secret_encrypted) "
                "VALUES ('acme', 'https://rest.zuora.com', 'id', 'x') RETURNING id"
            )
        ).scalar_one()
        table = sa.table(
            "workflows",
            *(sa.column(c) for c in ("customer_id", "zuora_id", "name", "state", "json_export", "export_hash")),
            sa.column("updated_at"),
            sa.column("last_synced_at"),
            sa.column("deleted_at"),
        )
        json_type = sa.JSON()
        rows = [
            {
                "customer_id": customer_id,
                "zuora_id": 7,
                "name": "Live",
                "state": "Active",
                "json_export": export,
                "export_hash": "h7",
                "updated_at": at,
                "last_synced_at": at,
                "deleted_at": None,
            },
            {
                "customer_id": customer_id,
                "zuora_id": 8,
                "name": "Gone",
                "state": "Active",
                "json_export": None,
                "export_hash": None,
                "updated_at": at,
                "last_synced_at": at,
                "deleted_at": at,
            },
        ]
        stmt = sa.insert(table).values(
            customer_id=sa.bindparam("customer_id"),
            zuora_id=sa.bindparam("zuora_id"),
            name=sa.bindparam("name"),
            state=sa.bindparam("state"),
            json_export=sa.bindparam("json_export", type_=json_type),
            export_hash=sa.bindparam("export_hash"),
            updated_at=sa.bindparam("updated_at", type_=sa.DateTime(timezone=True)),
            last_synced_at=sa.bindparam("last_synced_at", type_=sa.DateTime(timezone=True)),
            deleted_at=sa.bindparam("deleted_at", type_=sa.DateTime(timezone=True)),
        )
        if conn.dialect.name == "postgresql":
            stmt = stmt.values(
                json_export=sa.cast(sa.bindparam("json_export", type_=json_type), sa.dialects.postgresql.JSONB)
            )
        conn.execute(stmt, rows)

    migrate.upgrade(engine_at_0002)

    with engine_at_0002.connect() as conn:
        seeded = conn.execute(
            sa.text(
                "SELECT workflow_id, revision, workflow_name, task_count, first_seen_run_id, is_current "
                "FROM analyst_workflow_revisions ORDER BY workflow_id"
            )
        ).all()
    assert [tuple(r) for r in seeded] == [(7, 1, "Live", 2, None, True), (8, 1, "Gone", None, None, True)]
