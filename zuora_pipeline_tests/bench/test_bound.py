"""The request lower bound the bench compares against."""

import pytest

from zuora_pipeline.bench.bound import list_only_bound_s, lower_bound_s


def test_exports_dominate_when_concurrency_is_the_limit() -> None:
    # 2,000 workflows, 40 pages: (40 + 2000) * 50 ms / 20 beats the 41-step walk.
    assert lower_bound_s(2000, page_length=50, latency_s=0.05, concurrency=20) == pytest.approx(0.05 + 2040 * 0.05 / 20)


def test_a_first_walk_is_sequential() -> None:
    # Nothing exported, no stored listing: the token and 40 pages one after another (+1).
    assert lower_bound_s(2000, page_length=50, latency_s=0.05, concurrency=20, exports=0) == pytest.approx(0.05 * 42)


def test_an_unchanged_resync_requests_its_pages_together() -> None:
    # L * (1 + ceil((40 + 1) / 20)) = 4 L, not the sequential 42 L.
    assert list_only_bound_s(2000, page_length=50, latency_s=0.05, concurrency=20) == pytest.approx(0.05 * 4)
    assert list_only_bound_s(2000, page_length=50, latency_s=0.05, concurrency=8) == pytest.approx(0.05 * (1 + 6))
    assert list_only_bound_s(0, page_length=50, latency_s=0.05, concurrency=20) == pytest.approx(0.05 * 2)


def test_a_resync_with_exports_is_bounded_by_throughput() -> None:
    bound = lower_bound_s(2000, page_length=50, latency_s=0.05, concurrency=20, exports=400, stored_listing=True)
    assert bound == pytest.approx(0.05 + (41 + 400) * 0.05 / 20)
