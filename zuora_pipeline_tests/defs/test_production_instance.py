"""The production dagster.yaml (deploy/production/) loads on a real PostgreSQL with Dagster's stock
storage and says what the README says; its opt-in pooled storage block pools and disposes the
engines it replaces."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import sqlalchemy as sa
import yaml
from dagster_postgres import DagsterPostgresStorage

from zuora_pipeline.dagster_storage import PooledPostgresStorage

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = REPO / "deploy" / "production"


def test_production_dagster_yaml_uses_stock_postgres_storage_and_limits_runs_per_customer(
    tmp_path: Path, dagster_pg: str
) -> None:
    (tmp_path / "dagster.yaml").write_text((PRODUCTION / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        # dagster-postgres's own class, which Dagster's stock images and the Helm chart load.
        assert type(instance.get_ref().storage) is DagsterPostgresStorage
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 8
        assert instance.run_retries_enabled
        assert instance.run_coordinator.dequeue_use_threads
        assert instance.get_settings("retention")["sensor"]["purge_after_days"]["skipped"] == 7
        instance.add_dynamic_partitions("customers", ["acme"])
        assert instance.get_dynamic_partitions("customers") == ["acme"]


def test_the_opt_in_pooled_storage_pools_and_disposes_the_engines_it_replaces(tmp_path: Path, dagster_pg: str) -> None:
    production = yaml.safe_load((PRODUCTION / "dagster.yaml").read_text())
    pooled = yaml.safe_load((PRODUCTION / "pooled-storage.yaml").read_text())
    assert set(pooled) == {"storage"}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(production | pooled))
    disposed: list[sa.Engine] = []
    listener = disposed.append
    sa.event.listen(sa.engine.Engine, "engine_disposed", listener)
    try:
        with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
            # dagster-postgres's NullPool engines, one per storage, replaced by pooled ones.
            replaced = [engine for engine in disposed if isinstance(engine.pool, sa.pool.NullPool)]
            assert len(replaced) == 3, disposed
            _assert_connections_are_pooled(instance)
    finally:
        sa.event.remove(sa.engine.Engine, "engine_disposed", listener)


def _assert_connections_are_pooled(instance: dg.DagsterInstance) -> None:
    """Dozens of storage calls open one PostgreSQL connection per storage, not one per query (as
    dagster-postgres's own NullPool does). Reads the storages' private engines: if an upgrade
    renames them, this fails and dagster_storage.py needs a look."""
    assert isinstance(instance.get_ref().storage, PooledPostgresStorage)
    storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
    opened = []
    for storage in storages:
        engine = storage._engine  # type: ignore[union-attr]
        assert isinstance(engine.pool, sa.pool.QueuePool), type(engine.pool)
        sa.event.listen(engine, "connect", lambda *_: opened.append(1))
    for _ in range(20):
        instance.get_runs(limit=1)
        instance.get_dynamic_partitions("customers")
        instance.all_instigator_state()
    assert len(opened) <= len(storages), f"{len(opened)} connections for 60 queries"
