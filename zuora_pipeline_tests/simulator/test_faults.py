"""Fault injection: every kind is observable by a client; rules and rates behave as documented."""

from __future__ import annotations

import json

import httpx
import pytest

from zuora_pipeline.simulator.admin_client import SimulatorAdminError
from zuora_pipeline_tests.simulator.support import api_client, get_token, walk_pages

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def tenant(sim_tenant):
    return sim_tenant(workflows=20, tasks=4)


def _exportable(simulator, tenant) -> list[int]:
    return [i for i, e in simulator.admin.truth(tenant.name).items() if e["export"] is not None]


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_server_errors_are_json_and_counted(simulator, sim_admin_reset, tenant, kind):
    workflow_id = _exportable(simulator, tenant)[0]
    sim_admin_reset.add_fault_rules([{"endpoint": "export", "fault": kind, "times": 2, "tenant": tenant.name}])
    sim_admin_reset.reset_stats()
    with api_client(simulator.base_url, tenant) as client:
        statuses = [client.get(f"/workflows/{workflow_id}/export") for _ in range(3)]
    assert [r.status_code for r in statuses] == [int(kind), int(kind), 200]
    assert isinstance(statuses[0].json(), dict)
    stats = sim_admin_reset.stats()
    assert stats["faults_injected"] == {kind: 2}
    assert stats["by_endpoint"]["export"] == 3
    assert stats["requests"][f"export {kind}"] == 2


def test_429_fault_carries_retry_after(simulator, sim_admin_reset, tenant):
    sim_admin_reset.set_limits(retry_after="0")
    sim_admin_reset.add_fault_rules([{"endpoint": "list", "fault": "429", "tenant": tenant.name}])
    with api_client(simulator.base_url, tenant) as client:
        first, second = client.get("/workflows"), client.get("/workflows")
    assert first.status_code == 429 and first.headers["Retry-After"] == "0"
    assert first.json()["code"] == "REQUEST_EXCEEDED_LIMIT"
    assert second.status_code == 200


def test_timeout_fault_hangs_past_the_client_read_timeout(simulator, sim_admin_reset, tenant):
    sim_admin_reset.set_fault_rates({}, hang_s=2.0)
    sim_admin_reset.add_fault_rules([{"endpoint": "get", "fault": "timeout", "tenant": tenant.name}])
    workflow_id = _exportable(simulator, tenant)[0]
    with api_client(simulator.base_url, tenant, timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"/workflows/{workflow_id}")
        assert client.get(f"/workflows/{workflow_id}").status_code == 200
    assert sim_admin_reset.stats()["faults_injected"]["timeout"] == 1


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_drop_fault_closes_the_connection_mid_body(simulator, sim_admin_reset, tenant, encoding):
    workflow_id = _exportable(simulator, tenant)[0]
    sim_admin_reset.add_fault_rules([{"endpoint": "export", "fault": "drop", "workflow_id": workflow_id}])
    with api_client(simulator.base_url, tenant, Accept_Encoding=encoding) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"/workflows/{workflow_id}/export")
        assert client.get(f"/workflows/{workflow_id}/export").status_code == 200


def test_drop_fault_cuts_an_error_reply_too(simulator, sim_admin_reset, tenant):
    # A fault rule counted by request number must act whatever the reply: an export that 404s
    # (no such workflow) loses its connection like any other.
    sim_admin_reset.add_fault_rules([{"endpoint": "export", "fault": "drop", "workflow_id": 999999}])
    with api_client(simulator.base_url, tenant) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/workflows/999999/export")
        assert client.get("/workflows/999999/export").status_code == 404


def test_malformed_fault_is_200_with_invalid_json(simulator, sim_admin_reset, tenant):
    sim_admin_reset.add_fault_rules([{"endpoint": "list", "fault": "malformed", "page": 2}])
    with api_client(simulator.base_url, tenant) as client:
        page1 = client.get("/workflows?page=1&page_length=5")
        page2 = client.get("/workflows?page=2&page_length=5")
    assert page1.status_code == 200 and page1.json()["data"]
    assert page2.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(page2.content)


def test_401_fault_on_api_and_token(simulator, sim_admin_reset, tenant):
    token = get_token(simulator.base_url, tenant)
    sim_admin_reset.add_fault_rules(
        [
            {"endpoint": "list", "fault": "401", "tenant": tenant.name},
            {"endpoint": "token", "fault": "401", "tenant": tenant.name},
        ]
    )
    response = httpx.get(f"{simulator.base_url}/workflows", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json() == {"message": "Authentication error"}
    assert "WWW-Authenticate" in response.headers
    denied = httpx.post(
        f"{simulator.base_url}/oauth/token",
        data={"client_id": tenant.client_id, "client_secret": tenant.client_secret, "grant_type": "client_credentials"},
    )
    assert denied.status_code == 401 and denied.json()["error"] == "invalid_client"
    assert get_token(simulator.base_url, tenant)  # one-shot rules: the next token works


def test_404_fault_on_export_of_a_listed_workflow(simulator, sim_admin_reset, tenant):
    workflow_id = _exportable(simulator, tenant)[0]
    sim_admin_reset.add_fault_rules([{"endpoint": "export", "fault": "404", "workflow_id": workflow_id}])
    with api_client(simulator.base_url, tenant) as client:
        response = client.get(f"/workflows/{workflow_id}/export")
        listed = [i["id"] for i in client.get("/workflows").json()["data"]]
    assert workflow_id in listed
    assert response.status_code == 404
    assert response.json()["errors"][0]["title"].endswith("is not found.")


def test_empty_fault_returns_an_empty_page_without_next(simulator, sim_admin_reset, tenant):
    sim_admin_reset.add_fault_rules([{"endpoint": "list", "fault": "empty", "page": 2, "tenant": tenant.name}])
    with api_client(simulator.base_url, tenant) as client:
        items, paginations = walk_pages(client, 5)
    assert len(items) == 5
    assert paginations[-1] == {"page": 2, "page_length": 5}


def test_mutate_fault_shifts_ids_between_pages(simulator, sim_admin_reset, tenant):
    sim_admin_reset.add_fault_rules(
        [{"endpoint": "list", "fault": "mutate", "page": 2, "tenant": tenant.name, "mutation": {"add": 1, "delete": 2}}]
    )
    with api_client(simulator.base_url, tenant) as client:
        items, _ = walk_pages(client, 5)
    truth = simulator.admin.truth(tenant.name)
    assert len(truth) == 19
    seen = {item["id"] for item in items}
    # Two items from page 1 vanished, so two items slid from page 2 onto page 1 and were skipped.
    assert len(set(truth) - seen) == 2
    assert len(seen - set(truth)) == 2
    assert sim_admin_reset.stats()["faults_injected"] == {"mutate": 1}


def test_loop_fault_points_next_page_at_the_page_just_served(simulator, sim_admin_reset, tenant):
    sim_admin_reset.add_fault_rules([{"endpoint": "list", "fault": "loop", "page": 2, "tenant": tenant.name}])
    with api_client(simulator.base_url, tenant) as client:
        first = client.get("/workflows?page=1&page_length=5").json()["pagination"]["next_page"]
        looping = client.get("/workflows?page=2&page_length=5").json()
    assert first.endswith("/workflows?page=2&page_length=5")
    assert looping["pagination"]["next_page"] == first and len(looping["data"]) == 5
    assert sim_admin_reset.stats()["faults_injected"] == {"loop": 1}


def test_rule_after_times_and_targeting(simulator, sim_admin_reset, tenant):
    target, other = _exportable(simulator, tenant)[:2]
    sim_admin_reset.add_fault_rules(
        [{"endpoint": "export", "fault": "500", "times": 2, "after": 1, "workflow_id": target, "tenant": tenant.name}]
    )
    with api_client(simulator.base_url, tenant) as client:
        statuses = [client.get(f"/workflows/{target}/export").status_code for _ in range(4)]
        assert client.get(f"/workflows/{other}/export").status_code == 200
    assert statuses == [200, 500, 500, 200]
    rule = sim_admin_reset.faults()["rules"][0]
    assert rule["seen"] == 4 and rule["fired"] == 2


def test_rules_for_another_tenant_do_not_fire(simulator, sim_admin_reset, tenant, sim_tenant):
    bystander = sim_tenant(workflows=2)
    sim_admin_reset.add_fault_rules([{"endpoint": "any", "fault": "503", "times": 5, "tenant": bystander.name}])
    with api_client(simulator.base_url, tenant) as client:
        assert client.get("/workflows").status_code == 200


def test_fault_rates_are_seeded_and_deterministic(simulator, sim_admin_reset, tenant):
    workflow_id = _exportable(simulator, tenant)[0]

    def run() -> list[int]:
        sim_admin_reset.set_fault_rates({"export": {"500": 0.3, "503": 0.2}}, seed=42)
        with api_client(simulator.base_url, tenant) as client:
            return [client.get(f"/workflows/{workflow_id}/export").status_code for _ in range(40)]

    first, second = run(), run()
    assert first == second
    assert {200, 500, 503} == set(first)


def test_any_rates_hit_every_endpoint_but_only_after_authentication(simulator, sim_admin_reset, tenant):
    token = get_token(simulator.base_url, tenant)
    sim_admin_reset.set_fault_rates({"any": {"500": 1.0}})
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{simulator.base_url}/workflows", headers=headers).status_code == 500
    assert (
        httpx.post(
            f"{simulator.base_url}/oauth/token",
            data={
                "client_id": tenant.client_id,
                "client_secret": tenant.client_secret,
                "grant_type": "client_credentials",
            },
        ).status_code
        == 500
    )
    assert httpx.get(f"{simulator.base_url}/workflows").status_code == 401  # auth is checked before faults


def test_rates_apply_to_the_token_endpoint_too(simulator, sim_admin_reset, tenant):
    sim_admin_reset.set_fault_rates({"token": {"503": 1.0}})
    response = httpx.post(
        f"{simulator.base_url}/oauth/token",
        data={"client_id": tenant.client_id, "client_secret": tenant.client_secret, "grant_type": "client_credentials"},
    )
    assert response.status_code == 503
    sim_admin_reset.clear_faults()
    assert get_token(simulator.base_url, tenant)


def test_clear_faults_stops_injection(simulator, sim_admin_reset, tenant):
    sim_admin_reset.add_fault_rules([{"endpoint": "list", "fault": "500", "times": 100}])
    sim_admin_reset.clear_faults()
    with api_client(simulator.base_url, tenant) as client:
        assert client.get("/workflows").status_code == 200
    assert sim_admin_reset.faults() == {"rates": {}, "hang_s": 10.0, "rules": []}


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "export", "fault": "teapot"},
        {"endpoint": "nowhere", "fault": "500"},
        {"endpoint": "export", "fault": "empty"},
        {"endpoint": "list", "fault": "500", "times": 0},
        {"endpoint": "list", "fault": "500", "colour": "red"},
    ],
)
def test_invalid_rules_are_refused(simulator, sim_admin_reset, rule):
    with pytest.raises(SimulatorAdminError) as caught:
        sim_admin_reset.add_fault_rules([rule])
    assert caught.value.status == 400
    assert sim_admin_reset.faults()["rules"] == []


def test_invalid_rates_are_refused(simulator, sim_admin_reset):
    with pytest.raises(SimulatorAdminError):
        sim_admin_reset.set_fault_rates({"export": {"500": 0.7, "503": 0.6}})
