"""Admin API: tenants, stats, options, reset."""

from __future__ import annotations

import httpx
import pytest

from zuora_pipeline.simulator.admin_client import SimulatorAdminError, TenantInfo
from zuora_pipeline_tests.simulator.support import api_client

pytestmark = pytest.mark.timeout(60)


def test_default_tenants(simulator):
    tenants = simulator.admin.tenants()
    assert [t.name for t in tenants[:2]] == ["tenant-1", "tenant-2"]
    assert tenants[0] == simulator.admin.tenant("tenant-1")
    assert isinstance(tenants[0], TenantInfo) and tenants[0].tasks == 5 and tenants[0].workflows == 20
    assert tenants[0].client_id != tenants[1].client_id


def test_create_tenant_and_errors(simulator):
    info = simulator.admin.create_tenant("admin-test-tenant", workflows=7, tasks=2, seed=3)
    assert info.workflows == 7 and info.tasks == 2
    assert len(simulator.admin.truth(info.name)) == 7
    with pytest.raises(SimulatorAdminError) as duplicate:
        simulator.admin.create_tenant("admin-test-tenant", workflows=1, tasks=1)
    assert duplicate.value.status == 400
    with pytest.raises(SimulatorAdminError) as unknown:
        simulator.admin.tenant("no-such-tenant")
    assert unknown.value.status == 404
    with pytest.raises(SimulatorAdminError):
        simulator.admin.create_tenant("bad/name", workflows=1, tasks=1)


def test_stats_count_every_request_by_endpoint_and_status(simulator, sim_admin_reset, sim_tenant):
    tenant = sim_tenant(workflows=5, tasks=2)
    truth = simulator.admin.truth(tenant.name)
    workflow_id = next(i for i, e in truth.items() if e["export"])
    sim_admin_reset.add_fault_rules([{"endpoint": "versions", "fault": "502", "tenant": tenant.name}])
    sim_admin_reset.reset_stats()
    with api_client(simulator.base_url, tenant) as client:
        client.get("/workflows")
        client.get(f"/workflows/{workflow_id}")
        client.get(f"/workflows/{workflow_id}/export")
        client.get("/workflows/424242/export")
        client.get(f"/workflows/{workflow_id}/versions")
        client.get(f"/workflows/{workflow_id}/versions")
    httpx.get(f"{simulator.base_url}/workflows")
    stats = sim_admin_reset.stats()
    assert stats["by_endpoint"] == {"token": 1, "list": 2, "get": 1, "export": 2, "versions": 2}
    assert stats["requests"] == {
        "token 200": 1,
        "list 200": 1,
        "list 401": 1,
        "get 200": 1,
        "export 200": 1,
        "export 404": 1,
        "versions 502": 1,
        "versions 200": 1,
    }
    assert stats["requests_total"] == 8
    assert stats["tokens_issued"] == {tenant.name: 1}
    assert stats["faults_injected"] == {"502": 1}
    assert stats["max_in_flight"] == {tenant.name: 1}
    assert stats["in_flight_limit_rejections"] == 0
    sim_admin_reset.reset_stats()
    cleared = sim_admin_reset.stats()
    assert cleared["requests_total"] == 0 and cleared["requests"] == {} and cleared["max_in_flight"] == {}


def test_admin_requests_are_not_counted(simulator, sim_admin_reset):
    sim_admin_reset.reset_stats()
    sim_admin_reset.tenants()
    sim_admin_reset.truth("tenant-1")
    assert sim_admin_reset.stats()["requests_total"] == 0


def test_options_are_validated(simulator, sim_admin_reset):
    with pytest.raises(SimulatorAdminError):
        sim_admin_reset.set_options(last_page_next="maybe")
    with pytest.raises(SimulatorAdminError):
        sim_admin_reset.set_options(latency_ms=5)  # a limit, not an option
    with pytest.raises(SimulatorAdminError):
        sim_admin_reset.set_limits(max_concurrency=0)


def test_reset_restores_limits_and_options_and_clears_faults(simulator, sim_admin_reset):
    defaults = sim_admin_reset.config()
    sim_admin_reset.set_limits(latency_ms=5, max_concurrency=3, retry_after="1", rate_per_minute=100, token_ttl=60)
    sim_admin_reset.set_options(
        page_length_over_max="reject",
        last_page_next="null",
        no_active_version_repr="missing",
        bad_credentials_status=400,
        retry_after_mode="absent",
    )
    sim_admin_reset.add_fault_rules([{"endpoint": "list", "fault": "500"}])
    sim_admin_reset.set_fault_rates({"export": {"drop": 0.5}})
    sim_admin_reset.reset()
    assert sim_admin_reset.config() == defaults
    assert sim_admin_reset.faults() == {"rates": {}, "hang_s": 10.0, "rules": []}


def test_admin_unknown_route_and_method(simulator):
    assert httpx.get(f"{simulator.base_url}/__admin/nope").status_code == 404
    assert httpx.delete(f"{simulator.base_url}/__admin/stats").status_code == 405
    assert httpx.post(f"{simulator.base_url}/__admin/limits", content=b"[1]").status_code == 400
