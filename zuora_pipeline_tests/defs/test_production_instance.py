"""The production dagster.yaml (deploy/production/) loads on a real PostgreSQL and says what the
README says."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.dagster_storage import PooledPostgresStorage

REPO = Path(__file__).resolve().parents[2]


def test_production_dagster_yaml_uses_postgres_and_limits_runs_per_customer(tmp_path, monkeypatch):
    name = f"zp_dagster_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        for key, value in {
            "DAGSTER_PG_USERNAME": "postgres",
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_DB": name,
            "DAGSTER_PG_PORT": "5432",
        }.items():
            monkeypatch.setenv(key, value)
        shutil.copy(REPO / "deploy" / "production" / "dagster.yaml", tmp_path / "dagster.yaml")
        with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
            limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
            assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
            assert instance.get_concurrency_config().pool_config.default_pool_limit == 8
            assert instance.run_retries_enabled
            assert instance.run_coordinator.dequeue_use_threads
            instance.add_dynamic_partitions("customers", ["acme"])
            assert instance.get_dynamic_partitions("customers") == ["acme"]
            _assert_connections_are_pooled(instance)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _assert_connections_are_pooled(instance: dg.DagsterInstance) -> None:
    """Dozens of storage calls open one PostgreSQL connection per storage, not one per query (as
    dagster-postgres's own NullPool does). Reads the storages' private engines: if an upgrade
    renames them, this fails and dagster_storage.py needs a look."""
    assert isinstance(instance.get_ref().storage, PooledPostgresStorage)
    storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
    opened = []
    for storage in storages:
        engine = storage._engine
        assert isinstance(engine.pool, sa.pool.QueuePool), type(engine.pool)
        sa.event.listen(engine, "connect", lambda *_: opened.append(1))
    for _ in range(20):
        instance.get_runs(limit=1)
        instance.get_dynamic_partitions("customers")
        instance.all_instigator_state()
    assert len(opened) <= len(storages), f"{len(opened)} connections for 60 queries"
