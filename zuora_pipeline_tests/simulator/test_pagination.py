"""GET /workflows: ordering, next_page, last page, page_length limits."""

from __future__ import annotations

import pytest

from zuora_pipeline_tests.simulator.support import api_client, walk_pages

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("page_length", [1, 7, 20, 50])
def test_walk_sees_every_workflow_once_in_id_order(simulator, sim_tenant, page_length):
    tenant = sim_tenant(workflows=43)
    truth = simulator.admin.truth(tenant.name)
    with api_client(simulator.base_url, tenant) as client:
        items, paginations = walk_pages(client, page_length)
    ids = [item["id"] for item in items]
    assert ids == sorted(truth) and len(ids) == len(set(ids)) == 43
    assert items == [truth[i]["list_item"] for i in ids]
    assert "next_page" not in paginations[-1]
    assert all(p["next_page"].startswith(f"{simulator.base_url}/workflows?") for p in paginations[:-1])
    assert [p["page"] for p in paginations] == list(range(1, len(paginations) + 1))
    assert all(p["page_length"] == page_length for p in paginations)


def test_default_page_length_is_20(simulator):
    with api_client(simulator.base_url, simulator.admin.tenant("tenant-1")) as client:
        body = client.get("/workflows").json()
    assert len(body["data"]) == 20
    assert body["pagination"]["page_length"] == 20 and body["pagination"]["page"] == 1


def test_next_page_is_built_from_the_request_host(simulator):
    with api_client(simulator.base_url, simulator.admin.tenant("tenant-1"), Host="rest.test.zuora.com") as client:
        body = client.get("/workflows?page=1&page_length=5").json()
    assert body["pagination"]["next_page"] == "http://rest.test.zuora.com/workflows?page=2&page_length=5"


@pytest.mark.parametrize(("option", "expected"), [("null", None), ("empty", "")])
def test_last_page_next_page_representations(simulator, sim_admin_reset, option, expected):
    sim_admin_reset.set_options(last_page_next=option)
    with api_client(simulator.base_url, simulator.admin.tenant("tenant-1")) as client:
        items, paginations = walk_pages(client, 6)
    assert len(items) == 20
    assert paginations[-1]["next_page"] == expected
    assert all(p["next_page"] for p in paginations[:-1])


def test_exactly_full_last_page_has_no_next_page(simulator):
    with api_client(simulator.base_url, simulator.admin.tenant("tenant-1")) as client:
        body = client.get("/workflows?page=2&page_length=10").json()
    assert len(body["data"]) == 10
    assert "next_page" not in body["pagination"]


def test_page_past_the_end_is_empty(simulator):
    with api_client(simulator.base_url, simulator.admin.tenant("tenant-1")) as client:
        body = client.get("/workflows?page=9&page_length=20").json()
    assert body == {"data": [], "pagination": {"page": 9, "page_length": 20}}


def test_page_length_over_50_is_clamped_by_default(simulator, sim_tenant):
    tenant = sim_tenant(workflows=60, tasks=1)
    with api_client(simulator.base_url, tenant) as client:
        body = client.get("/workflows?page=1&page_length=80").json()
    assert len(body["data"]) == 50
    assert body["pagination"]["page_length"] == 50
    assert body["pagination"]["next_page"].endswith("page=2&page_length=50")


def test_page_length_over_50_can_be_rejected(simulator, sim_admin_reset):
    sim_admin_reset.set_options(page_length_over_max="reject")
    with api_client(simulator.base_url, simulator.admin.tenant("tenant-1")) as client:
        response = client.get("/workflows?page=1&page_length=51")
        assert client.get("/workflows?page=1&page_length=50").status_code == 200
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid"


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page_length=0", "page_length=x"])
def test_invalid_paging_parameters_are_400(simulator, query):
    with api_client(simulator.base_url, simulator.admin.tenant("tenant-1")) as client:
        response = client.get(f"/workflows?{query}")
    assert response.status_code == 400
    assert "errors" in response.json()
