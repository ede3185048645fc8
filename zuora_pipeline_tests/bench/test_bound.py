"""The DESIGN.md §6 lower bound the bench compares against."""

import pytest

from zuora_pipeline.bench.bound import list_only_bound_s, list_requests, lower_bound_s


def test_exports_dominate_when_concurrency_is_the_limit() -> None:
    # 2,000 workflows, 40 pages: (40 + 2000) * 50 ms / 20 beats the 41-step walk.
    assert lower_bound_s(2000, page_length=50, latency_s=0.05, concurrency=20) == pytest.approx(0.05 + 2040 * 0.05 / 20)


def test_the_page_walk_dominates_when_nothing_is_exported() -> None:
    assert list_only_bound_s(2000, page_length=50, latency_s=0.05) == pytest.approx(0.05 + 41 * 0.05)


def test_list_requests_is_at_least_one_page() -> None:
    assert list_requests(0, 50) == 1
    assert list_requests(101, 50) == 3
