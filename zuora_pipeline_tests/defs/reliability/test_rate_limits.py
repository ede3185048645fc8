"""Fault family 1: 429 storms, whatever form the server's "come back later" takes.

Every 429 is retried after the wait the server asked for (Retry-After in seconds, as an HTTP
date, ``0``, or only ``RateLimit-Reset``), the client stays under the tenant's concurrency cap,
and the sync ends equal to the simulator's truth. The wait is read from the client's own retry
metrics (what it slept), not from wall-clock timing.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import pytest

from zuora_pipeline_tests.defs.reliability.support import bystander, capture_clients, synced_customer

CAP = 3


def _configure(admin: Any, mode: str) -> tuple[float, dict[str, Any]]:
    """Set the simulator's 429 answer; return (the least wait per 429 a client honouring it
    sleeps, extra ZuoraResource config)."""
    if mode == "seconds":
        admin.set_limits(retry_after="2", max_concurrency=CAP)
        return 2.0, {}
    if mode == "http-date":
        # 30 s ahead, capped at 1.5 s by the client: an unparsed date would fall back to
        # exponential backoff (at most 1.0 s on a first or second attempt here).
        admin.set_limits(retry_after=email.utils.formatdate(time.time() + 30, usegmt=True), max_concurrency=CAP)
        return 1.5, {"max_retry_wait": 1.5}
    if mode == "zero":
        # "Retry-After: 0" from a busy server must not become a tight retry loop.
        admin.set_limits(retry_after="0", max_concurrency=CAP)
        return 0.5, {}
    if mode == "ratelimit-reset-only":
        admin.set_limits(retry_after="2", max_concurrency=CAP)
        admin.set_options(retry_after_mode="absent")
        return 2.0, {}
    raise AssertionError(mode)


@pytest.mark.parametrize("mode", ["seconds", "http-date", "zero", "ratelimit-reset-only"])
def test_429_storm_is_waited_out_and_the_sync_equals_truth(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    other = bystander(pipeline, sim_tenant)
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=20, tasks=3)
    admin = sim_admin_reset
    admin.mutate(tenant.name, add=2, update=3, delete=1, seed=4)
    min_wait, extra = _configure(admin, mode)
    admin.add_fault_rules(
        [
            {"endpoint": "list", "fault": "429", "times": 1, "page": 1, "tenant": tenant.name},
            {"endpoint": "export", "fault": "429", "times": 3, "tenant": tenant.name},
        ]
    )
    admin.reset_stats()

    with capture_clients(monkeypatch) as clients:
        outcome = pipeline.sync(name, full_refresh=True, resources_config={"zuora": {"concurrency": CAP, **extra}})

    assert outcome.success, outcome.error
    pipeline.assert_matches_truth(name, tenant.name)
    stats = admin.stats()
    assert stats["faults_injected"].get("429") == 4
    assert stats["max_in_flight"].get(tenant.name, 0) <= CAP, "the client went over the tenant's cap"
    assert stats["in_flight_limit_rejections"] == 0
    (client,) = clients
    metrics = client.metrics.as_dict()
    assert metrics["retries_429"] == 4, metrics
    assert metrics["retry_wait_seconds"] >= 4 * min_wait, (
        f"the client slept {metrics['retry_wait_seconds']:.2f}s over 4 429s; the server asked for >= {min_wait}s each"
    )
    assert outcome.stats.retries >= 4
    other.assert_untouched(pipeline)


def test_concurrency_cap_storm_every_rejected_request_is_retried(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tenant allows 2 requests in flight and the client starts with 8: a storm of
    concurrency 429s (Retry-After: 0). Each one is retried, none is lost, and the client's own
    in-flight count shrinks to the cap."""
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=30, tasks=2)
    admin = sim_admin_reset
    admin.set_limits(retry_after="0", max_concurrency=2, latency_ms=5)
    admin.reset_stats()

    with capture_clients(monkeypatch) as clients:
        outcome = pipeline.sync(name, full_refresh=True, resources_config={"zuora": {"concurrency": 8}})

    assert outcome.success, outcome.error
    pipeline.assert_matches_truth(name, tenant.name)
    stats = admin.stats()
    rejected = stats["in_flight_limit_rejections"]
    assert rejected > 0, "the storm did not happen"
    (client,) = clients
    metrics = client.metrics.as_dict()
    assert metrics["retries_429"] == rejected, "a rejected request was not retried (or retried twice)"
    assert stats["requests"].get("export 200", 0) == len(
        [w for w in admin.truth(tenant.name).values() if w["export"] is not None]
    )
