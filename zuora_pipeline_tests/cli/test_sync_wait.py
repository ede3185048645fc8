"""``sync --wait``: queued runs, launched by a real ``dagster-daemon``, are awaited; each customer's
outcome is reported as its run finishes and the exit code says whether all succeeded."""

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

import zuora_pipeline
from zuora_pipeline import config
from zuora_pipeline.cli import main
from zuora_pipeline.dagster_instance import ensure_instance_config
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.fixtures.keys import customers_partitions

WORKSPACE = Path(zuora_pipeline.__file__).resolve().parents[1] / "workspace.yaml"


@pytest.fixture
def daemon(cli_env, tmp_path) -> Iterator[dg.DagsterInstance]:
    """A dagster-daemon on the CLI's instance (DAGSTER_HOME), stopped (with its code server and
    run processes) at the end."""
    home = Path(os.environ["DAGSTER_HOME"])
    ensure_instance_config(home)
    executable = shutil.which("dagster-daemon", path=str(Path(sys.executable).parent)) or "dagster-daemon"
    process = subprocess.Popen(
        [executable, "run", "-w", str(WORKSPACE)],
        cwd=tmp_path,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so its children stop with it
    )
    try:
        yield dg.DagsterInstance.get()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def test_wait_reports_each_queued_run_as_it_finishes(cli_env, daemon, sim_tenant):
    good_tenant = sim_tenant(workflows=5, tasks=2)
    good = cli_env.add_customer(good_tenant)
    bad = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    with write_transaction(cli_env.engine) as conn:
        customers.update(conn, bad, client_secret_encrypted=config.secret_box().encrypt("wrong"))
    # Partitions first, so the daemon's customer_partitions_sensor has no one to onboard.
    daemon.add_dynamic_partitions(customers_partitions.name, [good, bad])

    result = CliRunner().invoke(main, ["sync", "--all", "--wait", "--timeout", "240", "--json"])

    assert result.exit_code == 1, result.output
    outcomes = {o["customer"]: o for o in map(json.loads, result.stdout.splitlines())}
    assert len(outcomes) == 2, result.stdout
    assert outcomes[good]["status"] == "success" and outcomes[good]["created"] == 5
    assert outcomes[bad]["status"] == "failed" and "rejected the credentials" in outcomes[bad]["error"]
    assert result.stderr.splitlines() == [f"Error: {bad}: {outcomes[bad]['error']}"]
    statuses = {r.run_id: r.status for r in daemon.get_runs()}
    assert statuses[outcomes[good]["run_id"]] == dg.DagsterRunStatus.SUCCESS
    assert statuses[outcomes[bad]["run_id"]] == dg.DagsterRunStatus.FAILURE
    cli_env.assert_matches_truth(good, good_tenant.name)


def test_wait_gives_up_after_the_timeout_without_a_daemon(cli_env, sim_tenant):
    name = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))

    result = CliRunner().invoke(main, ["sync", "--customer", name, "--wait", "--timeout", "0.5"])

    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("queued run ")
    assert result.stdout.splitlines()[-1] == "1 customer: 1 TIMEOUT"
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: {name}: run ") and line.endswith("not finished after 0.5 s")
    (run,) = dg.DagsterInstance.get().get_runs()
    assert run.status == dg.DagsterRunStatus.QUEUED  # still queued: waiting gave up, the run did not
