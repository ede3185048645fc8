"""Pages in parallel through the whole sync (real HTTP to the simulator, real PostgreSQL): a
re-sync requests the pages of the stored listing together, and a listing whose length changed
since the last sync is still walked completely (so deletions stay right)."""

from __future__ import annotations

from typing import Any

import pytest

CAP = 4
PAGE_LENGTH = 5


def _sync(pipeline: Any, name: str) -> Any:
    outcome = pipeline.sync(name, resources_config={"zuora": {"concurrency": CAP, "page_length": PAGE_LENGTH}})
    assert outcome.success, outcome.error
    return outcome


def test_a_resync_has_pages_in_flight_together(pipeline: Any, sim_tenant: Any, sim_admin_reset: Any) -> None:
    tenant = sim_tenant(workflows=60, tasks=1)
    name = pipeline.add_customer(tenant)
    _sync(pipeline, name)
    # Latency keeps requests overlapping; an unchanged re-sync requests only list pages.
    sim_admin_reset.set_limits(latency_ms=30, max_concurrency=CAP)
    sim_admin_reset.reset_stats()
    _sync(pipeline, name)
    stats = sim_admin_reset.stats()
    assert stats["by_endpoint"].get("export", 0) == 0 and stats["by_endpoint"].get("get", 0) == 0
    # 12 pages of 5, and at most the one fetched ahead of the stored count.
    assert stats["by_endpoint"]["list"] in (12, 13)
    assert stats["max_in_flight"][tenant.name] == CAP  # a sequential walk never has 2
    assert stats["in_flight_limit_rejections"] == 0
    pipeline.assert_matches_truth(name, tenant.name)


@pytest.mark.parametrize(
    "change",
    [
        {"add": 23},  # 12 pages -> 17: pages past the stored count
        {"delete": 27},  # 12 pages -> 7: the stored count past the end
        {"add": 1},  # a page more than stored: the page fetched ahead
    ],
    ids=["grew", "shrank", "one-more-page"],
)
def test_a_listing_that_grew_or_shrank_is_complete(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, change: dict[str, int]
) -> None:
    tenant = sim_tenant(workflows=60, tasks=1)
    name = pipeline.add_customer(tenant)
    _sync(pipeline, name)
    pipeline.simulator.admin.mutate(tenant.name, seed=5, **change)
    sim_admin_reset.set_limits(latency_ms=10)
    _sync(pipeline, name)
    pipeline.assert_matches_truth(name, tenant.name)


@pytest.mark.parametrize("last", ["omit", "null", "empty"])
def test_every_last_page_variant(pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, last: str) -> None:
    tenant = sim_tenant(workflows=50, tasks=1)  # a full last page
    name = pipeline.add_customer(tenant)
    sim_admin_reset.set_options(last_page_next=last)
    _sync(pipeline, name)
    pipeline.simulator.admin.mutate(tenant.name, add=3, delete=4, seed=9)
    _sync(pipeline, name)
    pipeline.assert_matches_truth(name, tenant.name)
