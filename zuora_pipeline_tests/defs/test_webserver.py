"""A partition run launched through the GraphQL API of a real dagster-webserver process: what the
UI's Materialize button does (asset selection + partition tag on the implicit asset job)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
LOCATION = {"repositoryLocationName": "zuora_pipeline", "repositoryName": "__repository__"}
ASSETS = [
    ["zuora", "workflow_pages"],
    ["zuora", "workflow_exports"],
    ["zuora", "workflows"],
    ["zuora", "workflow_tasks"],
]

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
  }
}"""
ADD_PARTITION = """
mutation Add($repo: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: $name, partitionKey: $key) {
    __typename
    ... on PythonError { message }
  }
}"""
RUN_STATUS = """
query Run($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"""
CHECK_PARTITIONS = """
query Checks($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks {
      name
      partitionStatuses {
        __typename ... on AssetCheckDefaultPartitionStatuses { succeededPartitions failedPartitions }
      }
    } } } }
  }
}"""
RESOURCE = """
query Resource($selector: ResourceSelector!) {
  topLevelResourceDetailsOrError(resourceSelector: $selector) {
    __typename ... on ResourceDetails { configuredValues { key value type } }
  }
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def webserver(pipeline, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    # No daemon in this test: launch runs straight away, as the default coordinator of a
    # deployment without a run queue does.
    (home / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n"
        "telemetry:\n  enabled: false\n"
    )
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster-webserver")),
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/server_info", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait_until(up, 120, "dagster-webserver to answer")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def _gql(base: str, query: str, variables: dict) -> dict:
    response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables}, timeout=60)
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.webserver
def test_materialize_a_customer_partition_through_the_webserver(pipeline, webserver, sim_tenant):
    tenant = sim_tenant(workflows=12, tasks=3)
    from zuora_pipeline import config
    from zuora_pipeline.warehouse import customers, sync_runs
    from zuora_pipeline.warehouse.transactions import write_transaction

    paused_tenant = sim_tenant(workflows=4, tasks=1)
    with write_transaction(pipeline.engine) as conn:
        for name, t in (("acme", tenant), ("paused-co", paused_tenant)):
            customers.add(
                conn,
                name=name,
                base_url=pipeline.simulator.base_url,
                client_id=t.client_id,
                client_secret_encrypted=config.secret_box().encrypt(t.client_secret),
            )
        sync_runs.pause(conn, "paused-co")
    for name in ("acme", "paused-co"):
        added = _gql(webserver, ADD_PARTITION, {"repo": LOCATION, "name": "customers", "key": name})
        assert added["addDynamicPartition"]["__typename"] == "AddDynamicPartitionSuccess", added

    for name in ("acme", "paused-co"):
        assert _materialize(webserver, name) == "SUCCESS", name
    pipeline.assert_matches_truth("acme", tenant.name)
    assert pipeline.rows("paused-co") == {}

    # The Checks tab's per-partition status: each customer keeps its own result.
    checks = _gql(webserver, CHECK_PARTITIONS, {"key": {"path": ["zuora", "workflow_pages"]}})
    statuses = {c["name"]: c["partitionStatuses"] for c in checks["assetNodeOrError"]["assetChecksOrError"]["checks"]}
    assert statuses["customer_active"] == {
        "__typename": "AssetCheckDefaultPartitionStatuses",
        "succeededPartitions": ["acme"],
        "failedPartitions": ["paused-co"],
    }
    assert statuses["pagination_complete"]["succeededPartitions"] == ["acme"]
    assert statuses["pagination_complete"]["failedPartitions"] == []

    # The Resources page: the variables by name, never the secret key's value.
    for resource, field, var in (
        ("warehouse", "database_url", "ZUORA_PIPELINE_DATABASE_URL"),
        ("zuora", "secret_key", "ZUORA_PIPELINE_SECRET_KEY"),
        ("zuora", "allowed_hosts", "ZUORA_PIPELINE_ALLOWED_HOSTS"),
    ):
        details = _gql(webserver, RESOURCE, {"selector": {**LOCATION, "resourceName": resource}})
        values = {v["key"]: v for v in details["topLevelResourceDetailsOrError"]["configuredValues"]}
        assert (values[field]["type"], values[field]["value"]) == ("ENV_VAR", var)
        assert config.secret_key() not in repr(values)


def _materialize(webserver: str, partition: str) -> str:
    """What the Materialize button launches for one customer partition; returns the run's status."""
    launched = _gql(
        webserver,
        LAUNCH,
        {
            "params": {
                "selector": {
                    **LOCATION,
                    "pipelineName": "__ASSET_JOB",
                    "assetSelection": [{"path": p} for p in ASSETS],
                },
                "runConfigData": {},
                "mode": "default",
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
            }
        },
    )["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    def finished() -> str | None:
        status = _gql(webserver, RUN_STATUS, {"id": run_id})["runOrError"]["status"]
        return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

    return _wait_until(finished, 180, "the run to finish")
