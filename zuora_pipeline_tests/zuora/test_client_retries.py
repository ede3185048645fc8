"""Retries of single calls: 429 waits, 5xx and transport errors with backoff, attempt and budget caps."""

from datetime import UTC

import httpx
import pytest

from zuora_pipeline.zuora import (
    ClientSettings,
    ZuoraConnectionError,
    ZuoraNotFoundError,
    ZuoraRateLimitedError,
    ZuoraRequestError,
    ZuoraServerError,
)
from zuora_pipeline.zuora.limiter import ConcurrencyLimiter

from .fakes import FakeZuora, SleepRecorder, make_client, once


def is_get(request: httpx.Request) -> bool:
    return request.url.path == "/workflows/1"


def run_get(fake: FakeZuora, settings: ClientSettings | None = None) -> tuple[SleepRecorder, object]:
    sleep = SleepRecorder()
    with make_client(fake, sleep=sleep, settings=settings) as client:
        client.get_workflow(1)
    return sleep, client


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"Retry-After": "7"}, 7.0, 7.5),
        ({"RateLimit-Reset": "12", "RateLimit-Remaining": "0"}, 12.0, 12.5),
        ({"Retry-After": "3", "RateLimit-Reset": "40"}, 3.0, 3.5),  # Retry-After wins
        ({"Retry-After": "0"}, 0.5, 1.0),  # never an instant retry
        ({"Retry-After": "600"}, 120.0, 120.5),  # capped at max_retry_wait
        ({}, 0.5, 1.0),  # no hint: backoff, at least backoff_base
    ],
)
def test_429_waits(headers: dict[str, str], low: float, high: float) -> None:
    fake = FakeZuora()
    fake.add_fault(once(is_get, lambda: httpx.Response(429, headers=headers, json={"reasons": [{"code": 70}]})))
    sleep, client = run_get(fake)
    assert len(sleep.waits) == 1
    assert low <= sleep.waits[0] <= high
    assert fake.count("/workflows/1") == 2
    assert client.metrics.retries["429"] == 1  # type: ignore[attr-defined]


def test_retry_after_http_date() -> None:
    from datetime import datetime, timedelta
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    fake = FakeZuora()
    fake.add_fault(once(is_get, lambda: httpx.Response(429, headers={"Retry-After": when})))
    sleep, _ = run_get(fake)
    assert 28 <= sleep.waits[0] <= 31


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_retried_with_backoff(status: int) -> None:
    fake = FakeZuora()
    fake.add_fault(once(is_get, lambda: httpx.Response(status, text="oops"), times=3))
    sleep, _ = run_get(fake)
    assert fake.count("/workflows/1") == 4
    assert len(sleep.waits) == 3
    for attempt, wait in enumerate(sleep.waits, start=1):
        assert 0 <= wait <= 0.5 * 2 ** (attempt - 1)  # full jitter under the exponential ceiling


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.ReadError("reset"),
    ],
)
def test_transport_errors_retried(exc: Exception) -> None:
    fake = FakeZuora()
    fake.add_fault(once(is_get, exc, times=2))
    sleep, _ = run_get(fake)
    assert fake.count("/workflows/1") == 3 and len(sleep.waits) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ZuoraRequestError),
        (403, ZuoraRequestError),
        (404, ZuoraNotFoundError),
        (422, ZuoraRequestError),
        (501, ZuoraServerError),
        (302, ZuoraRequestError),
    ],
)
def test_not_retried(status: int, error: type[Exception]) -> None:
    fake = FakeZuora()
    fake.add_fault(
        lambda r: (
            httpx.Response(
                status, json={"errors": [{"status": status, "title": "no"}]}, headers={"Location": "https://evil.com/"}
            )
            if is_get(r)
            else None
        )
    )
    sleep = SleepRecorder()
    with make_client(fake, sleep=sleep) as client, pytest.raises(error) as info:
        client.get_workflow(1)
    assert fake.count("/workflows/1") == 1 and sleep.waits == []
    assert info.value.status == status and info.value.endpoint == "GET /workflows/1"  # type: ignore[attr-defined]
    assert fake.count("evil") == 0


def test_attempts_exhausted() -> None:
    fake = FakeZuora()
    fake.add_fault(lambda r: httpx.Response(503) if is_get(r) else None)
    sleep = SleepRecorder()
    with make_client(fake, sleep=sleep, settings=ClientSettings(max_attempts=4)) as client:
        with pytest.raises(ZuoraServerError, match="HTTP 503 after 4 attempt"):
            client.get_workflow(1)
    assert fake.count("/workflows/1") == 4 and len(sleep.waits) == 3


def test_rate_limit_exhausted_carries_retry_after() -> None:
    fake = FakeZuora()
    fake.add_fault(lambda r: httpx.Response(429, headers={"Retry-After": "2"}) if is_get(r) else None)
    with make_client(fake, settings=ClientSettings(max_attempts=3)) as client:
        with pytest.raises(ZuoraRateLimitedError) as info:
            client.get_workflow(1)
    assert info.value.retry_after == 2.0 and info.value.status == 429


def test_connection_errors_exhausted() -> None:
    fake = FakeZuora()
    fake.add_fault(lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused")) if is_get(r) else None)
    with make_client(fake, settings=ClientSettings(max_attempts=2)) as client:
        with pytest.raises(ZuoraConnectionError, match="connect_error"):
            client.get_workflow(1)


def test_retry_budget_stops_waiting() -> None:
    fake = FakeZuora()
    fake.add_fault(lambda r: httpx.Response(429, headers={"Retry-After": "5"}) if is_get(r) else None)
    sleep = SleepRecorder()
    settings = ClientSettings(retry_budget_s=12, max_attempts=100)
    with make_client(fake, sleep=sleep, settings=settings) as client:
        with pytest.raises(ZuoraRateLimitedError):
            client.get_workflow(1)
        assert len(sleep.waits) == 2 and sum(sleep.waits) <= 12  # a third 5 s wait would overdraw it
        # the budget is per client: later calls give up at once
        with pytest.raises(ZuoraRateLimitedError):
            client.get_workflow(1)
        assert len(sleep.waits) == 2


def test_429_halves_the_in_flight_cap_and_successes_restore_it() -> None:
    fake = FakeZuora()
    fake.add_fault(once(is_get, lambda: httpx.Response(429, headers={"Retry-After": "1"})))
    with make_client(fake, sleep=SleepRecorder(), settings=ClientSettings(concurrency=8)) as client:
        client.get_workflow(1)
        assert client.limiter.limit == 4
        for _ in range(8):  # the retried call itself was success 1 of the 10 it takes
            client.get_workflow(2)
        assert client.limiter.limit == 4
        client.get_workflow(2)
        assert client.limiter.limit == 5


def test_no_adaptive_when_disabled() -> None:
    fake = FakeZuora()
    fake.add_fault(once(is_get, lambda: httpx.Response(429, headers={"Retry-After": "1"})))
    settings = ClientSettings(concurrency=8, adaptive_concurrency=False)
    with make_client(fake, sleep=SleepRecorder(), settings=settings) as client:
        client.get_workflow(1)
        assert client.limiter.limit == 8


def test_limiter_one_decrease_per_window() -> None:
    lim = ConcurrencyLimiter(8)
    with lim.slot() as e1, lim.slot() as e2:
        pass
    lim.throttled(e1)
    lim.throttled(e2)  # started in the same window: no second halving
    assert lim.limit == 4
    with lim.slot() as e3:
        pass
    lim.throttled(e3)
    assert lim.limit == 2
    for _ in range(5):
        with lim.slot() as e:
            pass
        lim.throttled(e)
    assert lim.limit == 1  # never below one


def test_limiter_remembers_how_low_the_cap_went_after_recovering() -> None:
    lim = ConcurrencyLimiter(4, recovery_successes=1)
    with lim.slot() as epoch:
        pass
    lim.throttled(epoch)
    for _ in range(5):
        lim.succeeded()
    assert lim.limit == 4
    assert lim.lowest_limit == 2
