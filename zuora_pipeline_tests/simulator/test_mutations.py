"""Admin mutations change the truth and what clients see, and always move updatedAt forward."""

from __future__ import annotations

import itertools

import pytest

from zuora_pipeline.simulator.admin_client import SimulatorAdminError
from zuora_pipeline_tests.simulator.support import api_client, parse_iso, walk_pages

pytestmark = pytest.mark.timeout(60)


def test_mutate_adds_updates_and_deletes(simulator, sim_tenant):
    tenant = sim_tenant(workflows=30, tasks=4)
    before = simulator.admin.truth(tenant.name)
    result = simulator.admin.mutate(tenant.name, add=3, update=5, delete=4, seed=7)
    after = simulator.admin.truth(tenant.name)
    assert len(result.added) == 3 and len(result.updated) == 5 and len(result.deleted) == 4
    assert set(result.deleted) <= set(before) and not set(result.deleted) & set(after)
    assert set(result.added) <= set(after) and not set(result.added) & set(before)
    assert min(result.added) > max(before)
    assert not set(result.updated) & set(result.deleted)
    for workflow_id in result.updated:
        old, new = before[workflow_id], after[workflow_id]
        assert parse_iso(new["list_item"]["updatedAt"]) > parse_iso(old["list_item"]["updatedAt"])
        assert (new["list_item"], new["export"]) != (old["list_item"], old["export"])
        if old["export"] is not None:
            assert new["export"] != old["export"]
    unchanged = set(before) - set(result.updated) - set(result.deleted)
    assert all(before[i] == after[i] for i in unchanged)
    assert simulator.admin.tenant(tenant.name).workflows == 29
    with api_client(simulator.base_url, tenant) as client:
        items, _ = walk_pages(client, 7)
        assert items == [after[i]["list_item"] for i in sorted(after)]
        for workflow_id in result.updated:
            if after[workflow_id]["export"] is not None:
                assert client.get(f"/workflows/{workflow_id}/export").json() == after[workflow_id]["export"]


def test_repeated_mutations_differ_and_updated_at_strictly_increases(simulator, sim_tenant):
    tenant = sim_tenant(workflows=5, tasks=3)
    workflow_id = min(simulator.admin.truth(tenant.name))
    stamps = []
    for n in range(5):
        simulator.admin.update_workflow(tenant.name, workflow_id, name=f"rename {n}")
        stamps.append(parse_iso(simulator.admin.truth(tenant.name)[workflow_id]["list_item"]["updatedAt"]))
    assert all(later > earlier for earlier, later in itertools.pairwise(stamps))
    first = simulator.admin.mutate(tenant.name, update=2)
    second = simulator.admin.mutate(tenant.name, update=2)
    assert first.updated and second.updated  # same seed, yet each call is a new edit


def test_update_workflow_name_status_and_tasks(simulator, sim_tenant):
    tenant = sim_tenant(workflows=5, tasks=3)
    truth = simulator.admin.truth(tenant.name)
    workflow_id = next(i for i, e in truth.items() if e["export"] and e["export"]["tasks"])
    old = truth[workflow_id]
    with api_client(simulator.base_url, tenant) as client:
        client.get(f"/workflows/{workflow_id}/export")  # warm the cache so invalidation is exercised
        simulator.admin.update_workflow(tenant.name, workflow_id, name='Renamed "wf" ✓', status="Inactive", tasks=7)
        export = client.get(f"/workflows/{workflow_id}/export").json()
        item = client.get(f"/workflows/{workflow_id}").json()
    assert item["name"] == 'Renamed "wf" ✓' and item["status"] == "Inactive"
    assert len(export["tasks"]) == 7
    assert export["workflow"]["id"] == item["active_version"]["id"] != old["list_item"]["active_version"]["id"]
    assert export["workflow"]["name"] == 'Renamed "wf" ✓'
    assert parse_iso(item["updatedAt"]) > parse_iso(old["list_item"]["updatedAt"])
    with pytest.raises(SimulatorAdminError):
        simulator.admin.update_workflow(tenant.name, workflow_id, status="on")


def test_add_workflow_active_and_inactive(simulator, sim_tenant):
    tenant = sim_tenant(workflows=2, tasks=3)
    active_id = simulator.admin.add_workflow(tenant.name, tasks=4, name="Brand new")
    draft_id = simulator.admin.add_workflow(tenant.name, tasks=2, active=False)
    truth = simulator.admin.truth(tenant.name)
    assert truth[active_id]["list_item"]["name"] == "Brand new"
    assert len(truth[active_id]["export"]["tasks"]) == 4
    assert truth[draft_id]["export"] is None
    with api_client(simulator.base_url, tenant) as client:
        assert client.get(f"/workflows/{draft_id}/export").status_code == 404
        latest = client.get(f"/workflows/{draft_id}/export?version=latest").json()
    assert len(latest["tasks"]) == 2


def test_delete_workflow(simulator, sim_tenant):
    tenant = sim_tenant(workflows=4, tasks=2)
    workflow_id = sorted(simulator.admin.truth(tenant.name))[1]
    simulator.admin.delete_workflow(tenant.name, workflow_id)
    with api_client(simulator.base_url, tenant) as client:
        assert client.get(f"/workflows/{workflow_id}").status_code == 404
        assert client.get(f"/workflows/{workflow_id}/export").status_code == 404
        assert workflow_id not in [i["id"] for i in client.get("/workflows").json()["data"]]
    with pytest.raises(SimulatorAdminError) as caught:
        simulator.admin.delete_workflow(tenant.name, workflow_id)
    assert caught.value.status == 404
