"""Mechanisms of the streaming fetch step (never timings): the in-flight cap holds against a
slow Zuora, unchanged workflows are not exported again, and exports are written batch by batch
instead of all being held until the download ends."""

from __future__ import annotations

import gc
import math
import time
from typing import Any

import pytest

from zuora_pipeline.sync import fetch
from zuora_pipeline.sync.fetch import EXPORT_WINDOW
from zuora_pipeline.warehouse import raw
from zuora_pipeline.zuora.results import WorkflowExport

CAP = 4


def test_requests_in_flight_never_exceed_the_cap(pipeline: Any, sim_tenant: Any, sim_admin_reset: Any) -> None:
    tenant = sim_tenant(workflows=60, tasks=2)
    name = pipeline.add_customer(tenant)
    # Latency keeps requests overlapping; the simulator enforces the cap with 429s and records
    # the peak on arrival, so an over-subscribing client would show above it.
    sim_admin_reset.set_limits(latency_ms=30, max_concurrency=CAP)
    sim_admin_reset.reset_stats()
    outcome = pipeline.sync(name, resources_config={"zuora": {"concurrency": CAP}})
    assert outcome.success, outcome.error
    stats = sim_admin_reset.stats()
    assert stats["by_endpoint"]["export"] > CAP
    assert stats["max_in_flight"][tenant.name] <= CAP
    assert stats["in_flight_limit_rejections"] == 0


def test_unchanged_workflows_are_not_exported_again(pipeline: Any, sim_tenant: Any) -> None:
    tenant = sim_tenant(workflows=30, tasks=2)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    pipeline.simulator.admin.reset_stats()
    changed = pipeline.simulator.admin.mutate(tenant.name, update=2, seed=3)
    truth = pipeline.simulator.admin.truth(tenant.name)
    assert pipeline.sync(name).success
    exports = pipeline.simulator.admin.stats()["by_endpoint"]["export"]
    assert exports == sum(1 for wid in changed.updated if truth[wid]["export"] is not None)


def test_exports_are_written_in_batches_as_they_arrive(
    pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = sim_tenant(workflows=45, tasks=3)
    name = pipeline.add_customer(tenant)
    customer = pipeline.customer(name)
    batch_size = 5
    flushes: list[tuple[int, int]] = []  # (exports in the batch, WorkflowExport objects alive)
    stage_exports = raw.stage_exports

    def spying_upsert(conn: Any, customer_id: int, exports: Any, **kw: Any) -> int:
        alive = sum(1 for o in gc.get_objects() if isinstance(o, WorkflowExport))
        flushes.append((len(exports), alive))
        return stage_exports(conn, customer_id, exports, **kw)

    monkeypatch.setattr(raw, "stage_exports", spying_upsert)
    with pipeline.zuora_resource(concurrency=CAP).client_for(customer) as client:
        result = fetch.fetch_workflow_definitions(
            pipeline.engine, customer, client, run_id="mechanism", batch_size=batch_size
        )
    assert result.exports_downloaded > 3 * batch_size
    # One write per batch_size exports (plus the final partial one), never one big write at the end.
    assert len(flushes) >= math.ceil(result.exports_downloaded / batch_size)
    assert all(size <= batch_size for size, _ in flushes)
    # Parsed exports do not pile up: at most those of the fetch's window (finished ahead of the
    # fetch's thread), and the one being turned into a row are alive at any flush, however many
    # the sync downloads.
    assert max(alive for _, alive in flushes) <= EXPORT_WINDOW * CAP + 2


def test_requests_stay_at_the_cap_while_a_batch_is_written(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first batch's write is held until the simulator has served 2 x CAP more exports and
    shows CAP requests in flight: only a download that goes on during the write gets there (a
    fetch busy writing would let at most the CAP exports already in flight finish)."""
    tenant = sim_tenant(workflows=80, tasks=1)
    name = pipeline.add_customer(tenant)
    customer = pipeline.customer(name)
    sim_admin_reset.set_limits(latency_ms=30, max_concurrency=CAP)
    stage_exports = raw.stage_exports
    seen: dict[str, Any] = {}

    def exports_served() -> int:
        return int(sim_admin_reset.stats()["by_endpoint"].get("export", 0))

    def slow_first_write(conn: Any, customer_id: int, exports: Any, **kw: Any) -> int:
        if "held" not in seen:
            seen["held"] = True
            at_start = exports_served()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                stats = sim_admin_reset.stats()
                served = int(stats["by_endpoint"].get("export", 0)) - at_start
                in_flight = int(stats["in_flight"].get(tenant.name, 0))
                if served >= 2 * CAP and in_flight == CAP:
                    seen["served_during_write"], seen["in_flight_during_write"] = served, in_flight
                    break
        return stage_exports(conn, customer_id, exports, **kw)

    monkeypatch.setattr(raw, "stage_exports", slow_first_write)
    with pipeline.zuora_resource(concurrency=CAP).client_for(customer) as client:
        result = fetch.fetch_workflow_definitions(pipeline.engine, customer, client, run_id="slow-write", batch_size=10)
    assert seen.get("in_flight_during_write") == CAP, f"the download stalled during the write: {seen}"
    assert result.exports_downloaded == result.exportable and result.errors == 0
    with pipeline.engine.connect() as conn:
        assert len(raw.export_fingerprints(conn, customer.id)) == result.exportable


def test_a_failed_write_fails_the_fetch_and_publishes_nothing(
    pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = sim_tenant(workflows=40, tasks=1)
    name = pipeline.add_customer(tenant)
    customer = pipeline.customer(name)
    stage_exports = raw.stage_exports
    writes: list[int] = []

    def failing_second_write(conn: Any, customer_id: int, exports: Any, **kw: Any) -> int:
        writes.append(len(exports))
        if len(writes) == 2:
            raise RuntimeError("warehouse went away")
        return stage_exports(conn, customer_id, exports, **kw)

    monkeypatch.setattr(raw, "stage_exports", failing_second_write)
    with pipeline.zuora_resource(concurrency=CAP).client_for(customer) as client:
        with pytest.raises(RuntimeError, match="warehouse went away"):
            fetch.fetch_workflow_definitions(pipeline.engine, customer, client, run_id="failed-write", batch_size=5)
    with pipeline.engine.connect() as conn:
        assert raw.export_fingerprints(conn, customer.id) == {}
        assert raw.page_stats(conn, customer.id) == (0, 0)
