"""The development Dagster instance: the repository root's dagster.yaml for `dagster dev` without
DAGSTER_HOME, the same file written into every instance directory the CLI and the demo use, and
the production file holding the same limits on PostgreSQL storage."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from zuora_pipeline.dagster_instance import DEV_INSTANCE_CONFIG, ensure_instance_config
from zuora_pipeline_tests.fixtures.dagster_dev import dagster_dev, wait_until
from zuora_pipeline_tests.fixtures.dagster_internals import InstanceRef

REPO = Path(__file__).resolve().parents[1]
PRODUCTION_YAML = REPO / "deploy" / "production" / "dagster.yaml"
POOLED_STORAGE_YAML = REPO / "deploy" / "production" / "pooled-storage.yaml"
NO_CONFIG_WARNING = "No dagster instance configuration file"
# From the banner Dagster prints when it creates a telemetry id (only with telemetry on).
TELEMETRY_BANNER = "we collect usage statistics"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

INSTANCE_QUERY = """
{ instance {
    info
    runQueueConfig { maxConcurrentRuns tagConcurrencyLimitsYaml }
    concurrencyLimit(concurrencyKey: "zuora_api") { limit usingDefaultLimit }
} }"""


def assert_dev_limits(instance: dg.DagsterInstance) -> None:
    """What the README promises of every instance: one run per customer, a backfill cap, the
    `zuora_api` pool limit, stale slots freed, telemetry off."""
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    concurrency = instance.get_concurrency_config()
    limits = concurrency.run_queue_config.tag_concurrency_limits
    assert {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    assert {"key": "dagster/backfill", "limit": 6} in limits
    assert concurrency.pool_config.default_pool_limit == 8
    assert instance.run_monitoring_enabled
    assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 300
    assert instance.telemetry_enabled is False
    assert instance.run_coordinator.dequeue_use_threads  # queued runs launched several at a time
    assert instance.run_coordinator.dequeue_num_workers == 4
    # Ticks are purged: schedules after 90 days, sensors' skipped ticks after 7.
    retention = instance.get_settings("retention")
    assert retention["schedule"]["purge_after_days"] == 90
    assert retention["sensor"]["purge_after_days"]["skipped"] == 7


def test_the_repository_root_dagster_yaml_is_the_packaged_development_config() -> None:
    assert (REPO / "dagster.yaml").read_text() == DEV_INSTANCE_CONFIG.read_text()
    assert "storage" not in yaml.safe_load(DEV_INSTANCE_CONFIG.read_text())


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys without a word: this loader refuses them."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        keys = [self.construct_object(key, deep=deep) for key, _value in node.value]
        repeated = sorted({str(k) for k in keys if keys.count(k) > 1})
        assert not repeated, f"repeated keys {repeated} at line {node.start_mark.line + 1}"
        return super().construct_mapping(node, deep=deep)


@pytest.mark.parametrize(
    "path", [DEV_INSTANCE_CONFIG, PRODUCTION_YAML, POOLED_STORAGE_YAML], ids=["development", "production", "pooled"]
)
def test_instance_files_say_each_key_once(path: Path) -> None:
    yaml.load(path.read_text(), Loader=_UniqueKeyLoader)


def test_production_config_is_the_development_config_on_postgres_storage() -> None:
    dev = yaml.safe_load(DEV_INSTANCE_CONFIG.read_text())
    production = yaml.safe_load(PRODUCTION_YAML.read_text())
    assert set(production.pop("storage")) == {"postgres"}  # dagster-postgres as shipped
    # One set of limits: a change to either file that is not made to the other fails here.
    assert production == dev


def test_an_instance_loaded_as_dagster_dev_loads_it_has_the_limits(tmp_path: Path) -> None:
    # The call `dagster dev` makes without DAGSTER_HOME (no public API does the same): storage
    # in a temporary directory, configuration from the current directory's dagster.yaml.
    storage = tmp_path / "storage"
    storage.mkdir()
    ref = InstanceRef.from_dir(str(storage), config_dir=str(REPO))
    with dg.DagsterInstance.from_ref(ref) as instance:
        assert_dev_limits(instance)
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"


def test_the_cli_writes_the_development_config_into_its_own_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zuora_pipeline.cli import context

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("ZUORA_PIPELINE_DATA_DIR", str(tmp_path / "data"))
    home = Path(context.dagster_home())
    assert home == tmp_path / "data" / "dagster_home"
    assert (home / "dagster.yaml").read_text() == DEV_INSTANCE_CONFIG.read_text()
    with context.dagster_instance() as instance:
        assert_dev_limits(instance)


def test_an_existing_dagster_yaml_is_never_replaced(tmp_path: Path) -> None:
    shutil.copy(PRODUCTION_YAML, tmp_path / "dagster.yaml")
    ensure_instance_config(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text() == PRODUCTION_YAML.read_text()


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cli = str(Path(sys.executable).with_name("zuora-pipeline"))
    return subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_cli_commands_using_dagster_print_no_instance_warning(tmp_path: Path, sqlite_engine, secret_key: str) -> None:
    from zuora_pipeline import config
    from zuora_pipeline.warehouse import customers
    from zuora_pipeline.warehouse.transactions import write_transaction

    url = sqlite_engine.url.render_as_string(hide_password=False)
    base = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    base |= {"ZUORA_PIPELINE_DATABASE_URL": url, "ZUORA_PIPELINE_DATA_DIR": str(tmp_path / "data")}
    own_home = {**base}
    fresh_home = {**base, "DAGSTER_HOME": str(tmp_path / "fresh_home")}
    (tmp_path / "fresh_home").mkdir()
    for env, home in ((own_home, tmp_path / "data" / "dagster_home"), (fresh_home, tmp_path / "fresh_home")):
        with write_transaction(sqlite_engine) as conn:
            customers.add(
                conn,
                name="acme",
                base_url="https://rest.zuora.com",
                client_id="id",
                client_secret_encrypted=config.secret_box().encrypt("s"),
            )
        # `customers remove` deletes the customer's Dagster partition: it opens the instance.
        result = _cli(["customers", "remove", "acme", "--yes"], env)
        assert result.returncode == 0, result.stderr
        assert NO_CONFIG_WARNING not in result.stdout + result.stderr
        assert TELEMETRY_BANNER not in result.stderr
        assert (home / "dagster.yaml").read_text() == DEV_INSTANCE_CONFIG.read_text()


@pytest.mark.webserver
def test_dagster_dev_in_the_repository_root_without_dagster_home_starts_with_the_limits(
    tmp_path: Path, sqlite_engine
) -> None:
    # The repository root's two files, in a directory of their own (`dagster dev` creates its
    # temporary instance directory in the current directory).
    root = tmp_path / "clone"
    root.mkdir()
    for name in ("dagster.yaml", "workspace.yaml"):
        shutil.copy(REPO / name, root / name)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env |= {
        "HOME": str(tmp_path),  # a user who never ran Dagster: no telemetry id yet
        "ZUORA_PIPELINE_DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False),
    }
    with dagster_dev(root, env, tmp_path / "dagster_dev.log") as server:
        instance = server.gql(INSTANCE_QUERY)["instance"]
        assert instance["runQueueConfig"]["maxConcurrentRuns"] == 10
        limits = yaml.safe_load(instance["runQueueConfig"]["tagConcurrencyLimitsYaml"])
        assert {"key": "dagster/partition", "limit": 1, "value": {"applyLimitPerUniqueValue": True}} in limits
        assert {"key": "dagster/backfill", "limit": 6} in limits
        assert instance["concurrencyLimit"] == {"limit": 8, "usingDefaultLimit": True}
        assert "telemetry:\n  enabled: false" in instance["info"]
        # Started cleanly: the daemon is up and evaluating the sensors, and nothing failed.
        wait_until(lambda: "Checking for new runs for sensor" in server.output(), 120, "the sensor daemon")
        output = ANSI.sub("", server.output())
    assert "DAGSTER_PG" not in output and NO_CONFIG_WARNING not in output, output
    assert " - ERROR - " not in output, output
    assert TELEMETRY_BANNER not in output
    assert not (tmp_path / ".dagster" / ".telemetry" / "id.yaml").exists()


def test_dg_commands_work_in_the_repository_root() -> None:
    dg_cli = str(Path(sys.executable).with_name("dg"))
    checked = subprocess.run([dg_cli, "check", "defs"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    listed = subprocess.run(
        [dg_cli, "list", "defs", "--json"], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert listed.returncode == 0, listed.stderr
    assert "sync_failure_alerts" in listed.stdout and "zuora/workflow_pages" in listed.stdout
