"""Fetches over real HTTP against the Zuora simulator: many exports at once with one token, a
token revoked mid-download, a 429 storm, transient faults.

Uses the session `simulator` fixture. Each test makes its own tenant (`sim_tenant`), so per-tenant
counters (tokens issued, max in flight) belong to that test alone; tests that change limits,
options or faults request `sim_admin_reset`, which restores them afterwards.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from zuora_pipeline.sync.fetch import Fetch, FetchResult
from zuora_pipeline.warehouse.raw import RawExport
from zuora_pipeline_tests.zuora.test_integration_simulator import client_for

from .fetching import fetch_threads, listed_ids, new_fetch


def run(client: Any) -> tuple[Fetch, FetchResult, dict[int, RawExport]]:
    fetch, staged = new_fetch(client)
    result = fetch.run()
    assert fetch_threads(client.customer) == []
    return fetch, result, {e.zuora_id: e for e in staged}


def exportable(truth: dict[int, Any]) -> set[int]:
    return {wid for wid, w in truth.items() if w["export"] is not None}


def test_2000_workflows_walk_and_export_with_exactly_one_token(simulator: Any, sim_tenant: Callable[..., Any]) -> None:
    t = sim_tenant(workflows=2000, tasks=2)
    truth = simulator.admin.truth(t.name)
    with client_for(simulator, t) as client:
        fetch, result, exported = run(client)
    ids = listed_ids(fetch)
    assert sorted(ids) == sorted(truth) and len(ids) == 2000
    for wid, w in truth.items():
        if w["export"] is None:  # no active version: Zuora would answer 404 to a plain export
            assert wid not in exported
        else:
            assert json.loads(exported[wid].content) == w["export"]
    assert result.without_active_version == 2000 - len(exportable(truth))
    assert simulator.admin.stats()["tokens_issued"][t.name] == 1
    m = client.metrics.as_dict()
    assert m["tokens_fetched"] == 1 and m["requests_list"] == 40
    assert m["requests_export"] + result.without_active_version == 2000
    assert m["bytes_received"] < sum(len(e.content) for e in exported.values())  # gzip on the wire


@pytest.mark.usefixtures("sim_admin_reset")
def test_401_fault_during_exports_refreshes_once(simulator: Any, sim_tenant: Callable[..., Any]) -> None:
    t = sim_tenant(workflows=120)
    simulator.admin.add_fault_rules([{"endpoint": "export", "fault": "401", "times": 1, "after": 10, "tenant": t.name}])
    with client_for(simulator, t, concurrency=4) as client:
        _, result, exported = run(client)
    truth = simulator.admin.truth(t.name)
    assert result.listed == 120
    assert set(exported) == exportable(truth) and result.errors == 0
    assert simulator.admin.stats()["tokens_issued"][t.name] == 2


@pytest.mark.usefixtures("sim_admin_reset")
def test_429_storm_completes_honouring_retry_after_within_the_cap(
    simulator: Any, sim_tenant: Callable[..., Any]
) -> None:
    t = sim_tenant(workflows=150)
    simulator.admin.set_limits(latency_ms=15, max_concurrency=3, retry_after="0.3")
    waits: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            waits.append(seconds)
        time.sleep(seconds)

    with client_for(simulator, t, sleep=sleep, concurrency=6, backoff_base=0.05) as client:
        _, result, exported = run(client)
    truth = simulator.admin.truth(t.name)
    assert result.listed == 150
    assert set(exported) == exportable(truth) and result.errors == 0
    retries_429 = client.metrics.retries["429"]
    assert retries_429 > 0 and len(waits) == retries_429
    assert all(w >= 0.3 for w in waits)  # Retry-After honoured (never an instant retry)
    stats = simulator.admin.stats()
    assert stats["max_in_flight"][t.name] <= 6  # never above the client's cap
    assert client.metrics.max_in_flight <= 6
    # AIMD lowered the cap under throttling (it may have earned it back by the end).
    assert client.limiter.lowest_limit < 6


@pytest.mark.usefixtures("sim_admin_reset")
def test_transient_faults_are_retried(simulator: Any, sim_tenant: Callable[..., Any]) -> None:
    t = sim_tenant(workflows=80)
    rules = [
        {"endpoint": "export", "fault": kind, "times": 2, "after": n * 7, "tenant": t.name}
        for n, kind in enumerate(["500", "502", "503", "drop", "timeout"])
    ]
    rules.append({"endpoint": "list", "fault": "503", "times": 1, "after": 1, "tenant": t.name})
    simulator.admin.add_fault_rules(rules)
    with client_for(simulator, t, concurrency=4, backoff_base=0.01, backoff_max=0.05, read_timeout=0.5) as client:
        fetch, result, exported = run(client)
    truth = simulator.admin.truth(t.name)
    assert sorted(listed_ids(fetch)) == sorted(truth)
    assert set(exported) == exportable(truth) and result.errors == 0
    retries = client.metrics.retries
    assert retries["500"] == retries["502"] == 2 and retries["503"] == 3
    # A body cut off halfway surfaces as a protocol error or, mid-gzip, as a decoding error,
    # depending on where the cut lands: both are retried transport failures.
    transport = ("dropped_connection", "timeout", "decoding_error", "connect_error")
    assert sum(retries[reason] for reason in transport) >= 4, dict(retries)
