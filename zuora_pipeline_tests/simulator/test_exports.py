"""Export, get and versions endpoints: shapes, ids, linkages, versions, gzip."""

from __future__ import annotations

import gzip
import json
import re
from typing import Any

import httpx
import pytest
import yaml

from zuora_pipeline_tests.simulator.support import OPENAPI_DIR, api_client

pytestmark = pytest.mark.timeout(60)

TOP_WORKFLOW_KEYS = {
    "id",
    "name",
    "description",
    "type",
    "version",
    "status",
    "priority",
    "call_type",
    "ondemand_trigger",
    "callout_trigger",
    "scheduled_trigger",
    "sync_trigger",
    "interval",
    "timezone",
    "delete_ttl",
    "parameters",
    "data",
    "notifications",
    "task_summary",
    "css",
    "original_workflow_id",
    "started_at",
    "finished_at",
}


def _action_type_enum() -> set[str]:
    spec = yaml.safe_load((OPENAPI_DIR / "zuora-workflows-api-openapi.yml").read_text())
    return set(spec["definitions"]["Task"]["properties"]["action_type"]["enum"])


def _string_leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _string_leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _string_leaves(v)]
    return [value]


def test_every_export_has_zuoras_shape_and_consistent_linkages(simulator):
    tenant = simulator.admin.tenant("tenant-1")
    truth = simulator.admin.truth(tenant.name)
    enum = _action_type_enum()
    checked = 0
    with api_client(simulator.base_url, tenant) as client:
        for workflow_id, entry in truth.items():
            item = entry["list_item"]
            if not item.get("active_version"):
                continue
            export = client.get(f"/workflows/{workflow_id}/export").json()
            assert export == entry["export"]
            assert set(export) == {"workflow", "tasks", "linkages"}
            workflow = export["workflow"]
            assert set(workflow) == TOP_WORKFLOW_KEYS
            assert workflow["id"] == item["active_version"]["id"] != workflow_id
            assert workflow["version"] == item["active_version"]["version"]
            tasks = {task["id"]: task for task in export["tasks"]}
            assert all(isinstance(task_id, int) for task_id in tasks)
            for task in export["tasks"]:
                assert task["action_type"] in enum
                assert isinstance(task["tags"], list) and isinstance(task["css"], dict)
                assert isinstance(task["concurrent_limit"], int) and task["priority"] in ("High", "Medium", "Low")
                assert all(isinstance(leaf, str) for leaf in _string_leaves(task["parameters"]))
            _assert_linkages_match_tasks(workflow["id"], export["tasks"], export["linkages"])
            checked += 1
    assert checked >= 15


def _assert_linkages_match_tasks(version_id: int, tasks: list[dict], linkages: list[dict]) -> None:
    if not tasks:
        assert linkages == []
        return
    starts = [link for link in linkages if link["linkage_type"] == "Start"]
    assert starts == [
        {
            "source_workflow_id": version_id,
            "source_task_id": None,
            "target_task_id": tasks[0]["id"],
            "linkage_type": "Start",
        }
    ]
    assert tasks[0]["task_id"] is None
    edges = {(link["source_task_id"], link["target_task_id"]) for link in linkages if link["linkage_type"] != "Start"}
    assert edges == {(task["task_id"], task["id"]) for task in tasks[1:]}
    task_ids = {task["id"] for task in tasks}
    assert all(task["task_id"] in task_ids for task in tasks[1:])
    assert len(linkages) == len(tasks)


def test_edge_case_workflows_exist(simulator, sim_tenant):
    tenant = sim_tenant(workflows=40, tasks=12)
    truth = simulator.admin.truth(tenant.name)
    task_counts = [len(e["export"]["tasks"]) for e in truth.values() if e["export"] is not None]
    assert 0 in task_counts and 60 in task_counts
    assert any(e["export"] is None and e["list_item"]["active_version"] is None for e in truth.values())
    items = [e["list_item"] for e in truth.values()]
    assert {"Active", "Inactive"} <= {item["status"] for item in items}
    assert max(len(item["latest_inactive_verisons"]) for item in items) == 10
    assert any(
        item["scheduledTrigger"]
        and re.fullmatch(r"[\d*/,\- ?]+", item["interval"])
        and item["timezone"]
        in ("Sydney", "Eastern Time (US & Canada)", "UTC", "Pacific Time (US & Canada)", "London", "Tokyo", "Berlin")
        for item in items
    )
    assert any(item["interval"] is None for item in items) and any(item["interval"] == "" for item in items)
    names = " ".join(item["name"] for item in items)
    assert not names.isascii()
    assert any(item["description"] == "" for item in items)
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", item[key])
        for item in items
        for key in ("createdAt", "updatedAt")
    )


def test_list_item_shape(simulator):
    item = next(iter(simulator.admin.truth("tenant-1").values()))["list_item"]
    assert {
        "id",
        "name",
        "description",
        "status",
        "calloutTrigger",
        "ondemandTrigger",
        "scheduledTrigger",
        "interval",
        "timezone",
        "createdAt",
        "updatedAt",
        "active_version",
        "latest_inactive_verisons",
    } == set(item)
    assert "priority" not in item and "type" not in item


def test_get_and_versions(simulator):
    tenant = simulator.admin.tenant("tenant-1")
    truth = simulator.admin.truth(tenant.name)
    workflow_id, entry = next((i, e) for i, e in truth.items() if e["list_item"]["latest_inactive_verisons"])
    with api_client(simulator.base_url, tenant) as client:
        got = client.get(f"/workflows/{workflow_id}").json()
        versions = client.get(f"/workflows/{workflow_id}/versions").json()
    expected = {k: v for k, v in entry["list_item"].items() if k != "latest_inactive_verisons"}
    assert {k: v for k, v in got.items() if k != "priority"} == expected
    assert got["priority"] in ("High", "Medium", "Low")
    assert set(versions) == {"data"}
    ids = [v["id"] for v in versions["data"]]
    assert ids == sorted(ids)
    active = [v for v in versions["data"] if v["status"] == "Active"]
    if entry["list_item"]["active_version"]:
        assert [v["id"] for v in active] == [entry["list_item"]["active_version"]["id"]]
    assert {v["id"] for v in entry["list_item"]["latest_inactive_verisons"]} <= set(ids)


def test_workflow_without_active_version(simulator):
    tenant = simulator.admin.tenant("tenant-1")
    truth = simulator.admin.truth(tenant.name)
    workflow_id = next(i for i, e in truth.items() if e["export"] is None)
    assert truth[workflow_id]["list_item"]["active_version"] is None
    with api_client(simulator.base_url, tenant) as client:
        plain = client.get(f"/workflows/{workflow_id}/export")
        latest = client.get(f"/workflows/{workflow_id}/export", params={"version": "latest"})
        first = client.get(f"/workflows/{workflow_id}/export", params={"version": "0.0.1"})
        missing = client.get(f"/workflows/{workflow_id}/export", params={"version": "9.9.9"})
        invalid = client.get(f"/workflows/{workflow_id}/export", params={"version": "v1!"})
        versions = client.get(f"/workflows/{workflow_id}/versions").json()["data"]
    assert plain.status_code == 404
    error = plain.json()["errors"][0]
    assert error["status"] == 400 and error["code"] == "invalid"
    assert error["title"].startswith("Workflow version '") and error["title"].endswith("' is not found.")
    assert latest.status_code == 200
    assert latest.json()["workflow"]["id"] == versions[-1]["id"]
    assert latest.json()["workflow"]["version"] == versions[-1]["version"]
    assert first.status_code == 200 and first.json()["workflow"]["version"] == "0.0.1"
    assert missing.status_code == 404
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["title"] == "The input of version 'v1!' is invalid."


@pytest.mark.parametrize(("option", "present", "value"), [("empty", True, {}), ("missing", False, None)])
def test_no_active_version_representations(simulator, sim_admin_reset, option, present, value):
    sim_admin_reset.set_options(no_active_version_repr=option)
    tenant = simulator.admin.tenant("tenant-1")
    truth = simulator.admin.truth(tenant.name)
    workflow_id = next(i for i, e in truth.items() if e["export"] is None)
    with api_client(simulator.base_url, tenant) as client:
        listed = next(i for i in client.get("/workflows").json()["data"] if i["id"] == workflow_id)
        got = client.get(f"/workflows/{workflow_id}").json()
    for body in (listed, got, truth[workflow_id]["list_item"]):
        assert ("active_version" in body) is present
        if present:
            assert body["active_version"] == value


@pytest.mark.parametrize(
    "path", ["/workflows/999999", "/workflows/999999/export", "/workflows/999999/versions", "/workflows/abc/export"]
)
def test_unknown_workflow_is_404_with_errors_shape(simulator, path):
    with api_client(simulator.base_url, simulator.admin.tenant("tenant-1")) as client:
        response = client.get(path)
    assert response.status_code == 404
    (error,) = response.json()["errors"]
    assert set(error) == {"status", "code", "title"} and error["code"] == "invalid"


def test_gzip_only_when_asked_and_over_1000_bytes(simulator):
    tenant = simulator.admin.tenant("tenant-1")
    truth = simulator.admin.truth(tenant.name)
    workflow_id = max((i for i, e in truth.items() if e["export"]), key=lambda i: len(truth[i]["export"]["tasks"]))
    with api_client(simulator.base_url, tenant) as client:
        with client.stream("GET", f"/workflows/{workflow_id}/export", headers={"Accept-Encoding": "gzip"}) as zipped:
            raw = b"".join(zipped.iter_raw())
        plain = client.get(f"/workflows/{workflow_id}/export", headers={"Accept-Encoding": "identity"})
        small = client.get("/workflows/999999", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert int(zipped.headers["Content-Length"]) == len(raw) < len(plain.content)
    assert json.loads(gzip.decompress(raw)) == truth[workflow_id]["export"]
    assert "Content-Encoding" not in plain.headers and len(plain.content) > 1000
    assert "Content-Encoding" not in small.headers


def test_response_headers(simulator):
    with api_client(simulator.base_url, simulator.admin.tenant("tenant-1")) as client:
        response = client.get("/workflows", headers={"Zuora-Track-Id": "trace-42"})
    assert re.fullmatch(r"[0-9a-f-]{36}", response.headers["Zuora-Request-Id"])
    assert response.headers["Zuora-Track-Id"] == "trace-42"
    assert response.headers["Content-Type"].startswith("application/json")
    assert "RateLimit-Limit" not in response.headers  # only when a rate limit is configured


def test_unknown_path_and_method(simulator):
    with api_client(simulator.base_url, simulator.admin.tenant("tenant-1")) as client:
        assert client.get("/v1/workflows").status_code == 404
        assert client.post("/workflows").status_code == 405
    assert httpx.get(f"{simulator.base_url}/oauth/token").status_code == 405
