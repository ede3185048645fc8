"""Latency, per-tenant concurrency cap (429 + Retry-After), per-minute rate limit headers."""

from __future__ import annotations

import email.utils
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from zuora_pipeline.simulator.admin_client import TenantInfo
from zuora_pipeline_tests.simulator.support import get_token

pytestmark = pytest.mark.timeout(60)


def _concurrent_gets(base_url: str, token: str, n: int) -> list[httpx.Response]:
    """Fire n requests that all start together (a barrier), each on its own connection."""
    barrier = threading.Barrier(n)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=20) as client:
            barrier.wait(timeout=10)
            return client.get("/workflows?page_length=1")

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def _quiet_tenant(sim_tenant) -> TenantInfo:
    return sim_tenant(workflows=3, tasks=1)


def test_latency_is_added_to_each_request(simulator, sim_admin_reset, sim_tenant):
    tenant = _quiet_tenant(sim_tenant)
    token = get_token(simulator.base_url, tenant)
    sim_admin_reset.set_limits(latency_ms=250)
    started = time.perf_counter()
    response = httpx.get(f"{simulator.base_url}/workflows", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.25


def test_concurrency_over_the_cap_gets_429_with_retry_after(simulator, sim_admin_reset, sim_tenant):
    tenant = _quiet_tenant(sim_tenant)
    token = get_token(simulator.base_url, tenant)
    sim_admin_reset.set_limits(max_concurrency=2, latency_ms=400, retry_after="7")
    sim_admin_reset.reset_stats()
    responses = _concurrent_gets(simulator.base_url, token, 6)
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) >= 2 and statuses.count(429) >= 1
    rejected = next(r for r in responses if r.status_code == 429)
    assert rejected.headers["Retry-After"] == "7"
    assert rejected.json() == {
        "code": "REQUEST_EXCEEDED_LIMIT",
        "message": "Your total number of concurrent requests have exceeded the limit allowed by the system. "
        "Please resubmit your request later.",
    }
    stats = sim_admin_reset.stats()
    assert stats["max_in_flight"][tenant.name] > 2  # measured on arrival, so the over-subscription shows
    assert stats["in_flight_limit_rejections"] == statuses.count(429)
    assert stats["requests"]["list 429"] == statuses.count(429)


def test_max_in_flight_reports_the_peak_without_rejections_under_the_cap(simulator, sim_admin_reset, sim_tenant):
    tenant = _quiet_tenant(sim_tenant)
    token = get_token(simulator.base_url, tenant)
    sim_admin_reset.set_limits(max_concurrency=3, latency_ms=400)
    sim_admin_reset.reset_stats()
    responses = _concurrent_gets(simulator.base_url, token, 3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    stats = sim_admin_reset.stats()
    assert stats["max_in_flight"][tenant.name] == 3
    assert stats["in_flight_limit_rejections"] == 0


def test_tokens_do_not_count_towards_the_concurrency_cap(simulator, sim_admin_reset, sim_tenant):
    tenant = _quiet_tenant(sim_tenant)
    sim_admin_reset.set_limits(max_concurrency=1, latency_ms=200)
    sim_admin_reset.reset_stats()
    with ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(lambda _: get_token(simulator.base_url, tenant), range(4)))
    assert len(set(tokens)) == 4
    assert sim_admin_reset.stats()["max_in_flight"].get(tenant.name, 0) == 0


@pytest.mark.parametrize("retry_after", ["0", "1", email.utils.formatdate(time.time() + 30, usegmt=True)])
def test_retry_after_value_is_configurable(simulator, sim_admin_reset, sim_tenant, retry_after):
    tenant = _quiet_tenant(sim_tenant)
    token = get_token(simulator.base_url, tenant)
    sim_admin_reset.set_limits(max_concurrency=1, latency_ms=400, retry_after=retry_after)
    rejected = [r for r in _concurrent_gets(simulator.base_url, token, 3) if r.status_code == 429]
    assert rejected and all(r.headers["Retry-After"] == retry_after for r in rejected)


def test_retry_after_can_be_absent_leaving_ratelimit_reset(simulator, sim_admin_reset, sim_tenant):
    tenant = _quiet_tenant(sim_tenant)
    token = get_token(simulator.base_url, tenant)
    sim_admin_reset.set_limits(max_concurrency=1, latency_ms=400, retry_after="3")
    sim_admin_reset.set_options(retry_after_mode="absent")
    rejected = [r for r in _concurrent_gets(simulator.base_url, token, 3) if r.status_code == 429]
    assert rejected
    for response in rejected:
        assert "Retry-After" not in response.headers
        assert response.headers["RateLimit-Reset"] == "3"
        assert response.headers["RateLimit-Remaining"] == "0"


def test_retry_after_none_via_set_limits_means_absent(simulator, sim_admin_reset):
    sim_admin_reset.set_limits(retry_after=None)
    assert sim_admin_reset.config()["retry_after_mode"] == "absent"
    sim_admin_reset.set_limits(retry_after="5")
    assert sim_admin_reset.config()["retry_after_mode"] == "header"


def _wait_for_fresh_minute_window() -> None:
    # The limit uses wall-clock minute windows; keep a 4-request test from straddling a boundary.
    remaining = 60 - time.time() % 60
    if remaining < 5:
        time.sleep(remaining + 0.05)


def test_rate_per_minute_headers_and_429(simulator, sim_admin_reset, sim_tenant):
    tenant = _quiet_tenant(sim_tenant)
    token = get_token(simulator.base_url, tenant)
    sim_admin_reset.set_limits(rate_per_minute=3)
    _wait_for_fresh_minute_window()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=simulator.base_url, headers=headers) as client:
        responses = [client.get("/workflows") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert all(r.headers["RateLimit-Limit"].startswith("3") for r in responses)
    reset = int(responses[-1].headers["RateLimit-Reset"])
    assert 1 <= reset <= 60
    assert responses[-1].json() == {
        "reasons": [{"code": 70, "message": f"API Rate limit exceeded for the minute, retry after {reset} seconds"}]
    }
    assert responses[-1].headers["Retry-After"] == str(reset)


def test_rate_limit_is_per_tenant(simulator, sim_admin_reset, sim_tenant):
    first, second = _quiet_tenant(sim_tenant), _quiet_tenant(sim_tenant)
    tokens = [get_token(simulator.base_url, t) for t in (first, second)]
    sim_admin_reset.set_limits(rate_per_minute=1)
    _wait_for_fresh_minute_window()
    statuses = [
        httpx.get(f"{simulator.base_url}/workflows", headers={"Authorization": f"Bearer {t}"}).status_code
        for t in tokens
    ]
    assert statuses == [200, 200]


def test_limits_can_be_lifted_again(simulator, sim_admin_reset, sim_tenant):
    tenant = _quiet_tenant(sim_tenant)
    token = get_token(simulator.base_url, tenant)
    sim_admin_reset.set_limits(max_concurrency=1, rate_per_minute=1000)
    sim_admin_reset.set_limits(max_concurrency=None, rate_per_minute=None, latency_ms=200)
    config = sim_admin_reset.config()
    assert config["max_concurrency"] is None and config["rate_per_minute"] is None
    assert all(r.status_code == 200 for r in _concurrent_gets(simulator.base_url, token, 4))
