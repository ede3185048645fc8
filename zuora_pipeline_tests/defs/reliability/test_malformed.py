"""Fault family 4: payloads that are not what Zuora documents.

Malformed JSON comes from the simulator's "malformed" fault. Unknown extra fields and missing
required fields come from a small rewriting proxy in front of the simulator (real HTTP, the
simulator's real data, one edit per test).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from zuora_pipeline_tests.defs.reliability.support import (
    Recorded,
    add_customer_at,
    allow_hosts,
    bystander,
    check_results,
    json_transform,
    materialization_metadata,
    rewriting_proxy,
    step_retries,
    synced_customer,
)


def _exportable(truth: dict[int, dict]) -> list[int]:
    return sorted(zid for zid, wf in truth.items() if wf["export"] is not None)


def test_a_persistently_malformed_list_page_fails_the_run_at_once_and_changes_nothing(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any
) -> None:
    other = bystander(pipeline, sim_tenant)
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=30, tasks=2)
    admin = sim_admin_reset
    admin.mutate(tenant.name, add=3, update=3, delete=3, seed=6)
    before = pipeline.rows(name)
    admin.add_fault_rules([{"endpoint": "list", "fault": "malformed", "times": 1000, "page": 1, "tenant": tenant.name}])
    admin.reset_stats()

    outcome = pipeline.sync(name, resources_config={"zuora": {"page_length": 10, "max_attempts": 3}})

    assert not outcome.success
    error = outcome.error or ""
    assert "list page 1" in error and "not valid JSON" in error and "in each of 3 attempt(s)" in error, error
    assert pipeline.rows(name) == before
    # The client asked three times; a step retry minutes later would meet the same page.
    assert admin.stats()["faults_injected"] == {"malformed": 3}  # page 1's own requests
    assert step_retries(pipeline.instance, outcome.run_id) == []
    other.assert_untouched(pipeline)

    admin.clear_faults()
    assert pipeline.sync(name).success
    pipeline.assert_matches_truth(name, tenant.name)


def test_a_transiently_malformed_page_is_asked_for_again_by_the_client(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=30, tasks=2)
    admin = sim_admin_reset
    admin.mutate(tenant.name, add=2, update=2, delete=2, seed=16)
    admin.add_fault_rules([{"endpoint": "list", "fault": "malformed", "times": 1, "page": 2, "tenant": tenant.name}])

    outcome = pipeline.sync(name, resources_config={"zuora": {"page_length": 10}})

    assert outcome.success, outcome.error
    assert step_retries(pipeline.instance, outcome.run_id) == []
    assert outcome.stats.retries == 1
    pipeline.assert_matches_truth(name, tenant.name)


def test_malformed_export_is_counted_and_the_last_good_export_kept(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=20, tasks=3)
    admin = sim_admin_reset
    target = _exportable(admin.truth(tenant.name))[0]
    good = pipeline.rows(name)[target]
    admin.update_workflow(tenant.name, target, name="changed while its export is broken", tasks=1)
    admin.add_fault_rules(
        [{"endpoint": "export", "fault": "malformed", "times": 1000, "workflow_id": target, "tenant": tenant.name}]
    )

    admin.reset_stats()

    outcome = pipeline.sync(name)

    assert outcome.success, outcome.error
    assert outcome.stats.errors == 1
    assert admin.stats()["faults_injected"] == {"malformed": 3}, "one request and two further passes"
    row = pipeline.rows(name)[target]
    assert row["json_export"] == good["json_export"], "a malformed export replaced the last good one"
    assert set(row["tasks"]) == set(good["tasks"])
    meta = materialization_metadata(pipeline.instance, outcome.run_id, "zuora/workflow_exports")
    assert meta["errors"] == 1
    assert any(f"workflow {target}" in s and "not valid JSON" in s for s in meta["error_samples"]), meta
    assert check_results(pipeline.instance, outcome.run_id)["exports_parse"] is False

    admin.clear_faults()
    retry = pipeline.sync(name)
    assert retry.success and retry.stats.errors == 0
    pipeline.assert_matches_truth(name, tenant.name)


# ---- crafted payloads through a rewriting proxy --------------------------------------------------

EXTRA_ITEM = {"x_partner_field": {"owner": "billing-ops", "tier": 2}}
EXTRA_EXPORT = {"x_export_meta": {"exported_by": "zuora-vNext"}}
EXTRA_TASK = {"x_task_hint": ["retry", 3]}


def _with_extras(endpoint: str, request: Recorded, data: dict[str, Any]) -> dict[str, Any] | None:
    if endpoint == "list":
        data["x_page_note"] = "unknown top-level field"
        for item in data.get("data") or []:
            item.update(copy.deepcopy(EXTRA_ITEM))
        return data
    if endpoint == "get":
        data.update(copy.deepcopy(EXTRA_ITEM))
        return data
    if endpoint == "export":
        data.update(copy.deepcopy(EXTRA_EXPORT))
        for task in data.get("tasks") or []:
            task.update(copy.deepcopy(EXTRA_TASK))
        return data
    return None


def test_unknown_extra_fields_are_accepted_and_kept(
    pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = sim_tenant(workflows=15, tasks=3)
    with rewriting_proxy(pipeline.simulator.base_url, json_transform(_with_extras)) as proxy:
        allow_hosts(monkeypatch, proxy.host_port)
        name = add_customer_at(pipeline, tenant, proxy.base_url)
        outcome = pipeline.sync(name)

    assert outcome.success, outcome.error
    assert outcome.stats.errors == 0
    truth = pipeline.simulator.admin.truth(tenant.name)
    rows = pipeline.rows(name)
    assert set(rows) == set(truth)
    for zid, expected in truth.items():
        row = rows[zid]
        assert row["deleted_at"] is None and row["name"] == expected["list_item"]["name"]
        assert row["list_entry"]["x_partner_field"] == EXTRA_ITEM["x_partner_field"]
        if expected["export"] is None:
            continue
        export = copy.deepcopy(expected["export"])
        export.update(EXTRA_EXPORT)
        for task in export.get("tasks") or []:
            task.update(EXTRA_TASK)
        assert row["json_export"] == export, f"workflow {zid}: the stored export lost or changed fields"
        for task in row["tasks"].values():
            assert task["workflow_task_json"]["x_task_hint"] == EXTRA_TASK["x_task_hint"]


def test_a_list_item_missing_a_required_field_fails_naming_field_and_workflow(
    pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = sim_tenant(workflows=15, tasks=2)
    broken: dict[str, int | None] = {"id": None}

    def drop_name(endpoint: str, request: Recorded, data: dict[str, Any]) -> dict[str, Any] | None:
        if endpoint == "list" and broken["id"] is not None:
            for item in data.get("data") or []:
                if item.get("id") == broken["id"]:
                    del item["name"]
            return data
        return None

    with rewriting_proxy(pipeline.simulator.base_url, json_transform(drop_name)) as proxy:
        allow_hosts(monkeypatch, proxy.host_port)
        name = add_customer_at(pipeline, tenant, proxy.base_url)
        assert pipeline.sync(name).success
        pipeline.simulator.admin.mutate(tenant.name, add=2, update=2, delete=2, seed=12)
        before = pipeline.rows(name)
        broken["id"] = sorted(pipeline.simulator.admin.truth(tenant.name))[4]

        outcome = pipeline.sync(name)

    assert not outcome.success
    error = outcome.error or ""
    assert "required field 'name' is missing" in error, error
    assert f"workflow {broken['id']}" in error, error
    assert step_retries(pipeline.instance, outcome.run_id) == [], "a missing field is not retried"
    assert pipeline.rows(name) == before


def test_an_export_missing_a_required_field_is_counted_naming_field_and_workflow(
    pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = sim_tenant(workflows=15, tasks=3)
    broken: dict[str, int | None] = {"id": None}

    def drop_task_id(endpoint: str, request: Recorded, data: dict[str, Any]) -> dict[str, Any] | None:
        if endpoint == "export" and broken["id"] is not None and f"/workflows/{broken['id']}/" in request.path:
            del data["tasks"][0]["id"]
            return data
        return None

    with rewriting_proxy(pipeline.simulator.base_url, json_transform(drop_task_id)) as proxy:
        allow_hosts(monkeypatch, proxy.host_port)
        name = add_customer_at(pipeline, tenant, proxy.base_url)
        assert pipeline.sync(name).success
        target = _exportable(pipeline.simulator.admin.truth(tenant.name))[0]
        good = pipeline.rows(name)[target]["json_export"]
        broken["id"] = target

        proxy.requests.clear()
        outcome = pipeline.sync(name, full_refresh=True)

    assert outcome.success, outcome.error
    assert outcome.stats.errors == 1
    exports_of_target = [r for r in proxy.requests if r.path.startswith(f"/workflows/{target}/export")]
    assert len(exports_of_target) == 1, "an export missing a required field is not fetched again"
    meta = materialization_metadata(pipeline.instance, outcome.run_id, "zuora/workflow_exports")
    (sample,) = meta["error_samples"]
    assert f"workflow {target}" in sample and "required field 'tasks.0.id' is missing" in sample, sample
    assert pipeline.rows(name)[target]["json_export"] == good
