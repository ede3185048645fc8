"""Queued ``sync`` (and ``--wait``) against a real ``dagster-daemon`` whose code location is not
named ``zuora_pipeline``: the CLI talks to the warehouse only, the daemon's sync_requests_sensor
makes the runs (several customers a run, as the schedule makes them), and each customer's outcome
is reported as its sync ends. Without a daemon nothing is queued and one line says so."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from zuora_pipeline import config
from zuora_pipeline.cli import main
from zuora_pipeline.dagster_instance import ensure_instance_config
from zuora_pipeline.runs import submit
from zuora_pipeline.warehouse import customers, sync_requests
from zuora_pipeline.warehouse.schema import sync_requests as sync_requests_table
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.fixtures.dagster_dev import wait_until
from zuora_pipeline_tests.fixtures.keys import customers_partitions

LOCATION = "zuora_prod"
WORKSPACE = f"""load_from:
  - python_module:
      module_name: zuora_pipeline.definitions
      location_name: {LOCATION}
"""


@pytest.fixture
def daemon(cli_env, tmp_path, monkeypatch) -> Iterator[dg.DagsterInstance]:
    """A dagster-daemon on its own instance (the CLI has none), location ``zuora_prod``, two
    customers a run; stopped (with its code server and run processes) at the end, once its
    sensor has run."""
    monkeypatch.setenv("ZUORA_PIPELINE_CUSTOMERS_PER_RUN", "2")
    home = tmp_path / "daemon_home"
    ensure_instance_config(home)
    (tmp_path / "workspace.yaml").write_text(WORKSPACE)
    executable = shutil.which("dagster-daemon", path=str(Path(sys.executable).parent)) or "dagster-daemon"
    process = subprocess.Popen(
        [executable, "run", "-w", str(tmp_path / "workspace.yaml")],
        cwd=tmp_path,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so its children stop with it
    )
    instance = dg.DagsterInstance.from_config(str(home))
    try:

        def watched() -> bool:
            assert process.poll() is None, f"dagster-daemon exited with {process.returncode}"
            try:
                submit.require_watcher(cli_env.engine)
            except submit.NotWatchedError:
                return False
            return True

        wait_until(watched, 180, "the daemon's sync_requests_sensor to run")
        yield instance
    finally:
        instance.dispose()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _break_credentials(harness, name: str) -> None:
    with write_transaction(harness.engine) as conn:
        customers.update(conn, name, client_secret_encrypted=config.secret_box().encrypt("wrong"))


def test_wait_reports_each_customer_of_runs_of_several_as_its_sync_ends(cli_env, daemon, sim_tenant):
    tenants = [sim_tenant(workflows=5, tasks=2) for _ in range(3)]
    names = sorted(cli_env.add_customer(t) for t in tenants)  # partitions in this order
    _break_credentials(cli_env, names[1])
    # Partitions first, so the daemon's customer_partitions_sensor has no one to onboard.
    daemon.add_dynamic_partitions(customers_partitions.name, names)

    result = CliRunner().invoke(main, ["sync", "--all", "--wait", "--timeout", "240", "--json"])

    assert result.exit_code == 1, result.output
    outcomes = {o["customer"]: o for o in map(json.loads, result.stdout.splitlines())}
    assert sorted(outcomes) == names, result.stdout
    good, bad, last = (outcomes[n] for n in names)
    assert good["status"] == last["status"] == "success" and good["created"] == last["created"] == 5
    assert bad["status"] == "failed" and "rejected the credentials" in bad["error"]
    assert result.stderr.splitlines() == [f"Error: {names[1]}: {bad['error']}"]
    # Two customers a run, in partition order, as the hourly schedule makes them.
    assert good["run_id"] == bad["run_id"] != last["run_id"]
    runs = {r.run_id: r for r in daemon.get_runs()}
    assert runs[good["run_id"]].status == dg.DagsterRunStatus.FAILURE  # it failed for its second customer
    assert runs[last["run_id"]].status == dg.DagsterRunStatus.SUCCESS
    for run_id in (good["run_id"], last["run_id"]):
        assert runs[run_id].remote_job_origin.location_name == LOCATION
        assert runs[run_id].tags["zuora/trigger"] == "cli"
    for name, tenant in zip(names, tenants, strict=True):
        if name != names[1]:
            cli_env.assert_matches_truth(name, tenant.name)


def test_queueing_prints_each_run_once_the_daemon_made_it(cli_env, daemon, sim_tenant):
    name = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    daemon.add_dynamic_partitions(customers_partitions.name, [name])

    text = CliRunner().invoke(main, ["sync", "--customer", name])
    as_json = CliRunner().invoke(main, ["sync", "--customer", name, "--json", "--full-refresh"])

    assert text.exit_code == 0 and as_json.exit_code == 0, text.output + as_json.output
    first = text.stdout.splitlines()
    assert first[0].startswith("queued run ") and first[0].endswith(f" for {name}"), text.stdout
    assert first[1].startswith("the deployment's Dagster daemon launches the queued runs")
    (line,) = as_json.stdout.splitlines()
    queued = json.loads(line)
    assert (queued["status"], queued["customer"], queued["seconds"], queued["error"]) == ("queued", name, None, None)
    runs = {r.run_id: r for r in daemon.get_runs()}
    for run_id in (first[0].split()[2], queued["run_id"]):
        assert runs[run_id].tags["dagster/partition"] == name
        assert runs[run_id].remote_job_origin.location_name == LOCATION
    config_of = runs[queued["run_id"]].run_config["ops"]["sync_workflows"]["config"]  # type: ignore[index]
    assert config_of["full_refresh"] is True
    wait_until(
        lambda: all(r.is_finished for r in daemon.get_runs()), 180, "the queued runs to finish before the daemon stops"
    )


@pytest.mark.parametrize("wait", [[], ["--wait"]], ids=["queued", "wait"])
def test_without_a_daemon_nothing_is_queued_and_one_line_says_how_to_reach_the_deployment(cli_env, sim_tenant, wait):
    name = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))

    result = CliRunner().invoke(main, ["sync", "--customer", name, *wait])

    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: no Dagster daemon has ever evaluated sync_requests_sensor")
    assert "ZUORA_PIPELINE_DATABASE_URL" in line and "--in-process" in line
    assert result.stdout == ""
    with cli_env.engine.connect() as conn:
        assert conn.execute(sync_requests_table.select()).first() is None
        assert sync_requests.pending(conn) == []


def test_wait_gives_up_at_the_timeout_and_withdraws_what_no_daemon_took(cli_env, sim_tenant):
    name = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    with write_transaction(cli_env.engine) as conn:  # a daemon that has just run the sensor, then stopped
        sync_requests.beat(conn, submit.SENSOR_NAME)

    result = CliRunner().invoke(main, ["sync", "--customer", name, "--wait", "--timeout", "0.5"])

    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "1 customer: 1 TIMEOUT"
    withdrawn = "not picked up by a Dagster daemon within 0.5 s (withdrawn)"
    assert result.stderr.splitlines() == [f"Error: {name}: {withdrawn}"], result.stderr
    with cli_env.engine.connect() as conn:
        assert conn.execute(sync_requests_table.select()).first() is None
