"""The whole-command timing runs its commands on Dagster homes made before the first command: a
user's home outlives each command, so the timed commands do not create its storage. One is the
CLI's own (SQLite), one the production instance with its opt-in pooled storage block on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml

from zuora_pipeline.bench.command import make_command_home
from zuora_pipeline.bench.env import LOCAL_PG_SERVER, create_pg_database, drop_pg_database
from zuora_pipeline.dagster_instance import DEV_INSTANCE_CONFIG

REPO = Path(__file__).resolve().parents[2]


def test_the_cli_home_is_the_development_instance_with_its_storage_created(tmp_path: Path) -> None:
    home = Path(make_command_home(tmp_path / "cli"))
    assert (home / "dagster.yaml").read_text() == DEV_INSTANCE_CONFIG.read_text()
    assert (home / "history" / "runs.db").exists()
    assert (home / "history" / "runs" / "index.db").exists()


def test_the_production_home_is_the_production_instance_on_postgres(tmp_path: Path) -> None:
    url = create_pg_database(LOCAL_PG_SERVER, "zp_test_cli_dagster")
    assert url is not None
    try:
        home = make_command_home(tmp_path / "production", dagster_pg_url=url)
        written = yaml.safe_load((Path(home) / "dagster.yaml").read_text())
        production = yaml.safe_load((REPO / "deploy" / "production" / "dagster.yaml").read_text())
        pooled = yaml.safe_load((REPO / "deploy" / "production" / "pooled-storage.yaml").read_text())
        assert written["storage"]["custom"]["class"] == pooled["storage"]["custom"]["class"] == "PooledPostgresStorage"
        assert {k: v for k, v in written.items() if k != "storage"} == {
            k: v for k, v in production.items() if k != "storage"
        }
        with dg.DagsterInstance.from_config(home) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert instance.get_runs() == []  # its schema exists before the first command
    finally:
        drop_pg_database(url)
