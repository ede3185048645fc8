"""Fault family 10: step retries, and the alert sent when they are exhausted.

A failure that outlasts the client's own retries fails the step; the RetryPolicy runs it again
(STEP_UP_FOR_RETRY) and the run succeeds. When the retries run out the run fails, and the
``sync_failure_alerts`` run-failure sensor emails (a local aiosmtpd server) and POSTs a webhook
(a local HTTP receiver) naming the customer, the job, the run and the error, and no secret.
"""

from __future__ import annotations

import email
import json
import socket
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from zuora_pipeline.defs.jobs import SYNC_JOB_NAME
from zuora_pipeline.defs.keys import SYNC_OP
from zuora_pipeline.defs.notifications import ALERT_SENT_TAG, SENSOR_NAME, AlertChannels
from zuora_pipeline_tests.defs.reliability.support import (
    bystander,
    event_types,
    receiver,
    run_records,
    step_retries,
    synced_customer,
)
from zuora_pipeline_tests.fixtures.keys import sync_failure_alerts

TWO_TRIES = {"zuora": {"max_attempts": 2}}


def test_a_transient_failure_beyond_the_client_retries_is_retried_by_the_step(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=20, tasks=3)
    admin = sim_admin_reset
    admin.mutate(tenant.name, add=2, update=3, delete=1, seed=41)
    # Two 503s on the first page: the client's two tries both fail, so the step fails once.
    admin.add_fault_rules([{"endpoint": "list", "fault": "503", "times": 2, "page": 1, "tenant": tenant.name}])

    outcome = pipeline.sync(name, resources_config=TWO_TRIES)

    assert outcome.success, outcome.error
    assert step_retries(pipeline.instance, outcome.run_id) == [SYNC_OP]
    starts = [
        e.dagster_event.step_key
        for e in run_records(pipeline.instance, outcome.run_id)
        if e.dagster_event is not None and e.dagster_event.event_type == dg.DagsterEventType.STEP_RESTARTED
    ]
    assert starts == [SYNC_OP], "the fetch step should have been restarted exactly once"
    assert dg.DagsterEventType.RUN_SUCCESS in event_types(pipeline.instance, outcome.run_id)
    pipeline.assert_matches_truth(name, tenant.name)


# ---- alerting ------------------------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(bytes(envelope.content))
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _failure_context(
    instance: dg.DagsterInstance, run_id: str, channels: AlertChannels | None = None
) -> dg.RunFailureSensorContext:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    (failure,) = [
        e.dagster_event
        for e in run_records(instance, run_id)
        if e.dagster_event is not None and e.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
    ]
    return dg.build_run_status_sensor_context(
        sensor_name=SENSOR_NAME,
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=run,
        resources={"alerts": channels or AlertChannels()},
    ).for_run_failure()


def test_exhausted_retries_fail_the_run_and_alert_by_email_and_webhook(
    pipeline: Any,
    sim_tenant: Any,
    sim_admin_reset: Any,
    smtp_inbox: tuple[_Inbox, int],
) -> None:
    other = bystander(pipeline, sim_tenant)
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=15, tasks=2)
    admin = sim_admin_reset
    admin.mutate(tenant.name, add=2, update=2, delete=2, seed=42)
    before = pipeline.rows(name)
    admin.add_fault_rules([{"endpoint": "list", "fault": "503", "times": 1000, "tenant": tenant.name}])

    outcome = pipeline.sync(name, resources_config=TWO_TRIES)

    assert not outcome.success
    assert "HTTP 503" in (outcome.error or "")
    assert len(step_retries(pipeline.instance, outcome.run_id)) == 3
    assert pipeline.rows(name) == before
    other.assert_untouched(pipeline)

    inbox, port = smtp_inbox
    smtp_password = "smtp-password-9d1e"
    with receiver() as hook:
        channels = AlertChannels(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from="pipeline@example.com",
            smtp_to="ops@example.com, oncall@example.com",
            webhook_url=f"{hook.base_url}/hooks/zuora?token=abc",
        )
        sync_failure_alerts(_failure_context(pipeline.instance, outcome.run_id, channels))
        # The run is tagged as alerted: evaluating the sensor on it again sends nothing.
        sync_failure_alerts(_failure_context(pipeline.instance, outcome.run_id, channels))
        webhook_requests = list(hook.requests)
    assert pipeline.instance.get_run_by_id(outcome.run_id).tags[ALERT_SENT_TAG] == "email,webhook"

    (message,) = inbox.messages
    assert message["To"] == "ops@example.com, oncall@example.com"
    assert name in message["Subject"] and SYNC_JOB_NAME in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert f"customer {name}" in body and outcome.run_id in body
    assert "HTTP 503" in body and "Traceback" not in body, body

    (post,) = webhook_requests
    assert post.method == "POST" and post.path == "/hooks/zuora?token=abc"
    payload = json.loads(post.body)
    assert payload["customer"] == name and payload["job"] == SYNC_JOB_NAME
    assert payload["run_id"] == outcome.run_id and "HTTP 503" in payload["error"]
    assert payload["error"] == body.split("Error: ", 1)[1].splitlines()[0]

    for secret in (tenant.client_secret, smtp_password):
        assert secret.encode() not in inbox.raw[0] and secret.encode() not in post.body


def test_a_failed_run_without_alert_channels_only_logs(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=5, tasks=1)
    sim_admin_reset.add_fault_rules([{"endpoint": "list", "fault": "503", "times": 1000, "tenant": tenant.name}])
    outcome = pipeline.sync(name, resources_config={"zuora": {"max_attempts": 1}})
    assert not outcome.success

    capfd.readouterr()
    sync_failure_alerts(_failure_context(pipeline.instance, outcome.run_id))

    logged = capfd.readouterr().err
    (line,) = [ln for ln in logged.splitlines() if "no alert channel configured" in ln]
    assert name in line and "HTTP 503" in line


def test_an_undeliverable_alert_fails_the_sensor_tick_without_leaking_the_password(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=5, tasks=1)
    sim_admin_reset.add_fault_rules([{"endpoint": "list", "fault": "503", "times": 1000, "tenant": tenant.name}])
    outcome = pipeline.sync(name, resources_config={"zuora": {"max_attempts": 1}})
    assert not outcome.success
    channels = AlertChannels(
        smtp_host="127.0.0.1",
        smtp_port=_free_port(),  # nothing listens
        smtp_to="ops@example.com",
        smtp_user="alerts",
        smtp_password="smtp-password-77aa",
    )

    with pytest.raises(RuntimeError, match="could not deliver the alert") as raised:
        sync_failure_alerts(_failure_context(pipeline.instance, outcome.run_id, channels))
    assert "smtp-password-77aa" not in str(raised.value)


def test_the_alert_sensor_is_registered_running_and_takes_the_alert_channels_resource() -> None:
    from zuora_pipeline.definitions import defs

    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert isinstance(sensor, dg.RunStatusSensorDefinition)
    assert "alerts" in sensor.required_resource_keys
    # Which runs it sees (every job of this code location, whatever launched it) is tested per
    # launch path in zuora_pipeline_tests/defs/test_failure_alerts.py.
