"""Fault family 2: 5xx bursts, read timeouts, dropped and refused connections."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.defs.reliability.support import (
    allow_hosts,
    bystander,
    capture_clients,
    step_retries,
    synced_customer,
)


def _rules(tenant: str, fault: str, *, list_times: int = 2, export_times: int = 4) -> list[dict[str, Any]]:
    return [
        {"endpoint": "list", "fault": fault, "times": list_times, "page": 1, "tenant": tenant},
        {"endpoint": "export", "fault": fault, "times": export_times, "tenant": tenant},
    ]


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_5xx_bursts_are_retried_by_the_client(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, monkeypatch: pytest.MonkeyPatch, status: str
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=20, tasks=3)
    admin = sim_admin_reset
    admin.mutate(tenant.name, add=2, update=4, delete=1, seed=7)
    admin.add_fault_rules(_rules(tenant.name, status))
    admin.reset_stats()

    with capture_clients(monkeypatch) as clients:
        outcome = pipeline.sync(name)

    assert outcome.success, outcome.error
    pipeline.assert_matches_truth(name, tenant.name)
    assert admin.stats()["faults_injected"].get(status) == 6
    (client,) = clients
    assert client.metrics.as_dict()[f"retries_{status}"] == 6
    assert step_retries(pipeline.instance, outcome.run_id) == [], "the client's own retries should suffice"


def test_read_timeouts_are_retried_and_the_sync_equals_truth(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = bystander(pipeline, sim_tenant)
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=20, tasks=3)
    admin = sim_admin_reset
    admin.mutate(tenant.name, add=1, update=4, seed=8)
    admin.set_fault_rates({}, hang_s=3.0)  # a "timeout" answers only after 3 s
    admin.add_fault_rules(_rules(tenant.name, "timeout", list_times=1, export_times=2))
    admin.reset_stats()

    with capture_clients(monkeypatch) as clients:
        outcome = pipeline.sync(name, resources_config={"zuora": {"read_timeout": 0.5}})

    assert outcome.success, outcome.error
    pipeline.assert_matches_truth(name, tenant.name)
    assert admin.stats()["faults_injected"].get("timeout") == 3
    (client,) = clients
    assert client.metrics.as_dict()["retries_timeout"] == 3
    other.assert_untouched(pipeline)


def test_dropped_connections_are_retried_and_the_sync_equals_truth(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = bystander(pipeline, sim_tenant)
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=20, tasks=3)
    admin = sim_admin_reset
    admin.mutate(tenant.name, add=2, update=4, delete=2, seed=9)
    admin.add_fault_rules(_rules(tenant.name, "drop", list_times=1, export_times=3))
    admin.reset_stats()

    with capture_clients(monkeypatch) as clients:
        outcome = pipeline.sync(name)

    assert outcome.success, outcome.error
    pipeline.assert_matches_truth(name, tenant.name)
    assert admin.stats()["faults_injected"].get("drop") == 4
    (client,) = clients
    metrics = client.metrics.as_dict()
    assert metrics["retries_total"] == 4, metrics
    other.assert_untouched(pipeline)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on exit: nothing listens there


def test_refused_connections_fail_the_run_clearly_and_change_nothing(
    pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = bystander(pipeline, sim_tenant)
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=15, tasks=2)
    pipeline.simulator.admin.mutate(tenant.name, add=2, update=2, delete=2, seed=3)
    before = pipeline.rows(name)
    port = _closed_port()
    allow_hosts(monkeypatch, f"127.0.0.1:{port}")
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, name, base_url=f"http://127.0.0.1:{port}")

    outcome = pipeline.sync(name, resources_config={"zuora": {"max_attempts": 2, "connect_timeout": 1.0}})

    assert not outcome.success
    assert "connect_error" in (outcome.error or ""), outcome.error
    assert name in (outcome.error or "")
    assert pipeline.rows(name) == before, "a failed sync changed the warehouse"
    assert len(step_retries(pipeline.instance, outcome.run_id)) == 3, "the RetryPolicy should have tried again"
    customer = pipeline.customer(name)
    assert customer.last_sync_status == "failed"
    assert customer.sync_status == customers.ACTIVE, "a network failure must not pause the customer"
    other.assert_untouched(pipeline)
