"""The production dagster.yaml (deploy/production/) loads on a real PostgreSQL and says what the
README says."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

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
            instance.add_dynamic_partitions("customers", ["acme"])
            assert instance.get_dynamic_partitions("customers") == ["acme"]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
