"""Missing data is fetched again within the run: an export that failed in a way another request
may fix (5xx or a dropped connection beyond the client's retries, a malformed body) gets further
passes before the fetch step counts it as an error; a 404 or a missing required field does not."""

from __future__ import annotations

from typing import Any

import pytest

from zuora_pipeline_tests.defs.reliability.support import (
    capture_clients,
    materialization_metadata,
    step_retries,
    synced_customer,
)

EXPORTS = "zuora/workflow_exports"


def _exportable(admin: Any, tenant: str) -> list[int]:
    return sorted(z for z, w in admin.truth(tenant).items() if w["export"] is not None)


def test_exports_that_failed_transiently_are_fetched_again_in_the_same_run(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=20, tasks=3)
    admin = sim_admin_reset
    garbled, unavailable, dropped, gone = _exportable(admin, tenant.name)[:4]
    for target in (garbled, unavailable, dropped, gone):
        admin.update_workflow(tenant.name, target, name=f"changed {target}", tasks=2)
    good_gone = pipeline.rows(name)[gone]["json_export"]

    def rule(target: int, fault: str, times: int) -> dict[str, Any]:
        return {"endpoint": "export", "fault": fault, "times": times, "workflow_id": target, "tenant": tenant.name}

    # Two tries per call: two 503s (or drops) outlast the client's retries, the next pass succeeds.
    admin.add_fault_rules(
        [rule(garbled, "malformed", 1), rule(unavailable, "503", 2), rule(dropped, "drop", 2), rule(gone, "404", 1000)]
    )
    admin.reset_stats()

    outcome = pipeline.sync(name, resources_config={"zuora": {"max_attempts": 2}})

    assert outcome.success, outcome.error
    assert step_retries(pipeline.instance, outcome.run_id) == []
    meta = materialization_metadata(pipeline.instance, outcome.run_id, EXPORTS)
    assert meta["exports_refetched"] == 3, meta
    assert meta["errors"] == 1 and outcome.stats.errors == 1
    (sample,) = meta["error_samples"]
    assert f"/workflows/{gone}/export" in sample and "404" in sample, sample
    injected = admin.stats()["faults_injected"]
    assert injected == {"malformed": 1, "503": 2, "drop": 2, "404": 1}, "a 404 must not be fetched again"
    rows = pipeline.rows(name)
    truth = admin.truth(tenant.name)
    for target in (garbled, unavailable, dropped):
        assert rows[target]["json_export"] == truth[target]["export"], f"workflow {target} was not re-fetched"
    assert rows[gone]["json_export"] == good_gone, "a failed export replaced the last good one"


def test_refetch_passes_are_bounded_and_keep_the_last_good_export(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=10, tasks=2)
    admin = sim_admin_reset
    target = _exportable(admin, tenant.name)[0]
    good = pipeline.rows(name)[target]["json_export"]
    admin.update_workflow(tenant.name, target, name="changed while Zuora fails its export", tasks=1)
    admin.add_fault_rules(
        [{"endpoint": "export", "fault": "503", "times": 1000, "workflow_id": target, "tenant": tenant.name}]
    )
    admin.reset_stats()

    outcome = pipeline.sync(name, resources_config={"zuora": {"max_attempts": 2}})

    assert outcome.success, outcome.error
    # The first pass and two further passes, each the client's two tries.
    assert admin.stats()["faults_injected"] == {"503": 6}
    meta = materialization_metadata(pipeline.instance, outcome.run_id, EXPORTS)
    assert meta["exports_refetched"] == 0 and meta["errors"] == 1
    assert pipeline.rows(name)[target]["json_export"] == good

    admin.clear_faults()
    assert pipeline.sync(name).success
    pipeline.assert_matches_truth(name, tenant.name)


FAULT_RATES = {
    endpoint: {"malformed": 0.01, "500": 0.02, "502": 0.015, "503": 0.015} for endpoint in ("list", "export")
}


@pytest.mark.timeout(180)
def test_one_sync_through_1pct_malformed_and_5pct_5xx_leaves_the_customer_equal_to_zuora(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = sim_tenant(workflows=400, tasks=3)
    name = pipeline.add_customer(tenant)
    admin = sim_admin_reset
    admin.set_fault_rates(FAULT_RATES, seed=8)
    admin.reset_stats()

    with capture_clients(monkeypatch) as clients:
        outcome = pipeline.sync(name)

    injected = admin.stats()["faults_injected"]
    assert sum(injected.values()) > 0 and injected.get("malformed", 0) > 0, injected
    assert outcome.success, outcome.error
    meta = materialization_metadata(pipeline.instance, outcome.run_id, EXPORTS)
    assert meta["errors"] == 0, meta["error_samples"]
    (client,) = clients
    api = client.metrics.as_dict()
    # Malformed pages are asked for again by the client, malformed exports by a further pass.
    assert meta["exports_refetched"] >= 1 and meta["exports_refetched"] + api.get("retries_malformed", 0) >= 1
    print(  # the figures quoted in the README
        f"\nrequests {sum(admin.stats()['by_endpoint'].values())}, faults injected {sum(injected.values())} "
        f"{dict(sorted(injected.items()))}, client retries {api['retries_total']}, "
        f"exports refetched {meta['exports_refetched']}, errors left {meta['errors']}, "
        f"{meta['exports_requested']} exports, {outcome.seconds:.1f} s"
    )
    assert step_retries(pipeline.instance, outcome.run_id) == []
    admin.clear_faults()
    pipeline.assert_matches_truth(name, tenant.name)
