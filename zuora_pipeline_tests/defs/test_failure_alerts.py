"""Every failed sync alerts once, naming the customer, whatever launched it.

One real ``dagster dev`` (webserver, daemon with the real ``sync_failure_alerts`` sensor, code
server) on a fresh instance with the development dagster.yaml, alerting to a local SMTP server
and a local webhook receiver. One customer per launch path, each with credentials Zuora (the
simulator) refuses, so each run fails:

- UI Materialize: the four sync assets of one partition through the webserver's GraphQL, as the
  Materialize button launches them (the implicit asset job ``__ASSET_JOB``);
- backfill: a partition backfill through GraphQL, run by the backfill daemon;
- schedule: a run of the schedule's job carrying the schedule's tags, as the scheduler creates
  it (a cron tick cannot be forced in a test);
- sensor onboarding: a customer added to the warehouse only; ``customer_partitions_sensor``
  adds its partition and launches its first sync;
- CLI queued: ``zuora-pipeline sync --customer NAME``, a sync request that sync_requests_sensor runs;
- CLI in-process: ``zuora-pipeline sync --customer NAME --in-process`` on the same instance:
  no sensor sees such a run, the runner alerts.

The alerts are awaited all together (bounded), then one more sensor tick, then each path's test
counts its customer's alerts.
"""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from zuora_pipeline.crypto import SecretBox, new_key
from zuora_pipeline.dagster_instance import ensure_instance_config
from zuora_pipeline.defs.notifications import ALERT_SENT_TAG, SENSOR_NAME
from zuora_pipeline.warehouse import customers, migrate
from zuora_pipeline.warehouse.engine import get_engine
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.defs.reliability.support import receiver
from zuora_pipeline_tests.fixtures.dagster_dev import DagsterDev, dagster_dev, wait_until
from zuora_pipeline_tests.fixtures.receivers import smtp_inbox

REPO = Path(__file__).resolve().parents[2]
LOCATION = {"repositoryLocationName": "zuora_pipeline", "repositoryName": "__repository__"}
SYNC_ASSETS = [
    ["zuora", "workflow_pages"],
    ["zuora", "workflow_exports"],
    ["zuora", "workflows"],
    ["zuora", "workflow_tasks"],
]
PATHS = {
    "ui-bad": "the Dagster UI or API",
    "backfill-bad": "backfill",
    "schedule-bad": "schedule hourly_workflow_sync",
    "onboard-bad": "sensor customer_partitions_sensor",
    "queued-bad": "sensor sync_requests_sensor",  # the sensor that runs the CLI's queued syncs
    "inproc-bad": "zuora-pipeline cli",
}
ONBOARDED = "onboard-bad"

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}"""
BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
SENSOR_TICKS = """
query Ticks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    ... on Sensor { sensorState { ticks(limit: 1) { timestamp status } } }
  }
}"""
RESOURCE = """
query Resource($selector: ResourceSelector!) {
  topLevelResourceDetailsOrError(resourceSelector: $selector) {
    ... on ResourceDetails { configuredValues { key value type } }
  }
}"""
RUNS = """
{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"""


@dataclass
class Alerts:
    server: DagsterDev
    emails: list[email.message.Message]
    webhooks: list[dict[str, Any]]
    runs: list[dict[str, Any]]

    def emails_for(self, customer: str) -> list[email.message.Message]:
        return [m for m in self.emails if str(m["Subject"]).endswith(f"for customer {customer}")]

    def webhooks_for(self, customer: str) -> list[dict[str, Any]]:
        return [w for w in self.webhooks if w["customer"] == customer]

    def runs_for(self, customer: str) -> list[dict[str, Any]]:
        """Runs of this customer alone: tagged with its partition, or (a backfill's run, whose
        backfill policy makes ranges) with a range of just that partition."""
        alone = [
            [{"key": "dagster/partition", "value": customer}],
            [
                {"key": "dagster/asset_partition_range_start", "value": customer},
                {"key": "dagster/asset_partition_range_end", "value": customer},
            ],
        ]
        return [r for r in self.runs if any(all(t in r["tags"] for t in tags) for tags in alone)]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cli = str(Path(sys.executable).with_name("zuora-pipeline"))
    return subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=180, check=False)


def _last_sensor_tick(server: DagsterDev) -> float:
    selector = {**LOCATION, "sensorName": SENSOR_NAME}
    state = server.gql(SENSOR_TICKS, {"selector": selector})["sensorOrError"]["sensorState"]
    return max((float(t["timestamp"]) for t in state["ticks"]), default=0.0)


def _launch_each_path(server: DagsterDev, add_customer: Any, env: dict[str, str]) -> None:
    # Only now the onboarding customer: the sensor creates its partition and syncs it.
    add_customer(ONBOARDED)
    ui = server.gql(
        LAUNCH,
        {
            "params": {
                "selector": {
                    **LOCATION,
                    "pipelineName": "__ASSET_JOB",
                    "assetSelection": [{"path": p} for p in SYNC_ASSETS],
                },
                "runConfigData": {},
                "mode": "default",
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "ui-bad"}]},
            }
        },
    )["launchPipelineExecution"]
    assert ui["__typename"] == "LaunchRunSuccess", ui
    backfill = server.gql(
        BACKFILL,
        {"params": {"assetSelection": [{"path": p} for p in SYNC_ASSETS], "partitionNames": ["backfill-bad"]}},
    )["launchPartitionBackfill"]
    assert backfill["__typename"] == "LaunchBackfillSuccess", backfill
    scheduled = server.gql(
        LAUNCH,
        {
            "params": {
                "selector": {**LOCATION, "pipelineName": "sync_customer_workflows"},
                "runConfigData": {},
                "mode": "default",
                "executionMetadata": {
                    "tags": [
                        {"key": "dagster/partition", "value": "schedule-bad"},
                        {"key": "dagster/schedule_name", "value": "hourly_workflow_sync"},
                    ]
                },
            }
        },
    )["launchPipelineExecution"]
    assert scheduled["__typename"] == "LaunchRunSuccess", scheduled
    queued = _cli(["sync", "--customer", "queued-bad"], env)
    assert queued.returncode == 0 and "queued run" in queued.stdout, queued.stderr
    in_process = _cli(["sync", "--customer", "inproc-bad", "--in-process"], env)
    assert in_process.returncode != 0, in_process.stdout


@pytest.fixture(scope="module")
def alerts(simulator: Any) -> Iterator[Alerts]:
    with tempfile.TemporaryDirectory(prefix="zp_alerts_") as tmp, receiver() as hook, smtp_inbox() as inbox:
        work = Path(tmp)
        home = work / "dagster_home"
        ensure_instance_config(home)
        url = f"sqlite:///{work / 'warehouse.sqlite'}"
        engine = get_engine(url)
        migrate.upgrade(engine)
        key = new_key()
        host = simulator.base_url.split("://", 1)[1].rstrip("/")
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "ZUORA_PIPELINE_DATABASE_URL": url,
            "ZUORA_PIPELINE_SECRET_KEY": key,
            "ZUORA_PIPELINE_ALLOWED_HOSTS": host,
            "ZUORA_PIPELINE_ALERT_SMTP_HOST": "127.0.0.1",
            "ZUORA_PIPELINE_ALERT_SMTP_PORT": str(inbox.port),
            "ZUORA_PIPELINE_ALERT_SMTP_TO": "ops@example.com",
            "ZUORA_PIPELINE_ALERT_WEBHOOK_URL": f"{hook.base_url}/hooks/alerts?token=t0k3n",
        }
        tenant = simulator.admin.create_tenant("alerts-refused", workflows=3, tasks=1, seed=5)
        box = SecretBox(key)

        def add_customer(name: str) -> None:
            with write_transaction(engine) as conn:
                customers.add(
                    conn,
                    name=name,
                    base_url=simulator.base_url,
                    client_id=tenant.client_id,
                    client_secret_encrypted=box.encrypt("not-the-secret"),
                )

        # Every other customer and its partition exist before the services start, so the
        # onboarding sensor launches no run for them.
        others = [name for name in PATHS if name != ONBOARDED]
        for name in others:
            add_customer(name)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            instance.add_dynamic_partitions("customers", others)
        try:
            with dagster_dev(REPO, env, work / "dagster_dev.log") as server:
                _launch_each_path(server, add_customer, env)

                def all_alerted() -> bool:
                    delivered = {json.loads(r.body)["customer"] for r in hook.requests}
                    return set(PATHS) <= delivered

                wait_until(all_alerted, 240, "an alert for every launch path", interval=1.0)
                # One more sensor tick after the last alert: a second alert would show up now.
                seen = time.time()
                wait_until(lambda: _last_sensor_tick(server) > seen, 60, "another sensor tick", interval=1.0)
                runs = server.gql(RUNS)["runsOrError"]["results"]
                yield Alerts(
                    server=server,
                    emails=list(inbox.messages),
                    webhooks=[json.loads(r.body) for r in hook.requests],
                    runs=runs,
                )
        finally:
            engine.dispose()


def _assert_one_alert(alerts: Alerts, customer: str) -> None:
    (mail,) = alerts.emails_for(customer)
    (hook,) = alerts.webhooks_for(customer)
    (run,) = [r for r in alerts.runs_for(customer) if r["status"] == "FAILURE"]
    assert hook["run_id"] == run["runId"] and run["runId"] in mail.get_payload(decode=True).decode()
    assert hook["launched_by"].startswith(PATHS[customer]), hook
    assert "not-the-secret" not in json.dumps(hook) and "t0k3n" not in json.dumps(hook)
    assert {"key": ALERT_SENT_TAG, "value": "email,webhook"} in run["tags"]


@pytest.mark.webserver
def test_ui_materialize_failure_alerts_once(alerts: Alerts) -> None:
    _assert_one_alert(alerts, "ui-bad")
    assert alerts.webhooks_for("ui-bad")[0]["job"] == "materialization"


@pytest.mark.webserver
def test_backfill_failure_alerts_once(alerts: Alerts) -> None:
    _assert_one_alert(alerts, "backfill-bad")


@pytest.mark.webserver
def test_schedule_run_failure_alerts_once(alerts: Alerts) -> None:
    _assert_one_alert(alerts, "schedule-bad")
    assert alerts.webhooks_for("schedule-bad")[0]["job"] == "sync_customer_workflows"


@pytest.mark.webserver
def test_sensor_onboarding_failure_alerts_once(alerts: Alerts) -> None:
    _assert_one_alert(alerts, "onboard-bad")


@pytest.mark.webserver
def test_cli_queued_failure_alerts_once(alerts: Alerts) -> None:
    _assert_one_alert(alerts, "queued-bad")


@pytest.mark.webserver
def test_cli_in_process_failure_is_alerted_by_the_runner_once(alerts: Alerts) -> None:
    _assert_one_alert(alerts, "inproc-bad")


@pytest.mark.webserver
def test_the_resources_page_shows_the_alert_variables_never_their_values(alerts: Alerts) -> None:
    selector = {**LOCATION, "resourceName": "alerts"}
    details = alerts.server.gql(RESOURCE, {"selector": selector})["topLevelResourceDetailsOrError"]
    shown = {v["key"]: (v["type"], v["value"]) for v in details["configuredValues"]}
    assert shown["webhook_url"] == ("ENV_VAR", "ZUORA_PIPELINE_ALERT_WEBHOOK_URL")
    assert shown["smtp_host"] == ("ENV_VAR", "ZUORA_PIPELINE_ALERT_SMTP_HOST")
    assert shown["smtp_port"] == ("ENV_VAR", "ZUORA_PIPELINE_ALERT_SMTP_PORT")
    assert "t0k3n" not in json.dumps(details)
