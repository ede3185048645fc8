import random
from datetime import UTC, datetime

import pytest

from zuora_pipeline.zuora import parse_retry_after
from zuora_pipeline.zuora.retry import Backoff, RetryBudget, parse_ratelimit_reset

NOW = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),  # HTTP-date, 30 s ahead
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("Wed, 99 Foo 2015", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(("value", "expected"), [("1200", 1200.0), ("0", 0.0), ("x", None), (None, None)])
def test_parse_ratelimit_reset(value: str | None, expected: float | None) -> None:
    assert parse_ratelimit_reset(value) == expected


def test_full_jitter_exponential_bounds() -> None:
    b = Backoff(base=0.5, cap=4.0, max_retry_wait=120, rng=random.Random(1))
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        waits = [b.exponential(attempt) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # really spread over the range (full jitter)


def test_throttled_honours_server_wait_with_cap_and_floor() -> None:
    b = Backoff(base=0.5, cap=30, max_retry_wait=120, rng=random.Random(2))
    w = b.throttled(1, 10.0)
    assert 10.0 <= w <= 10.5
    assert 120.0 <= b.throttled(1, 600.0) <= 120.5  # capped at max_retry_wait
    # Retry-After: 0 is never an instant retry.
    assert all(b.throttled(1, 0.0) >= 0.5 for _ in range(50))
    assert all(b.throttled(3, None) >= 0.5 for _ in range(50))


def test_retry_budget_sequential_waits_add_up() -> None:
    now = [0.0]
    budget = RetryBudget(10, clock=lambda: now[0])
    assert budget.take(6)
    now[0] += 6
    assert not budget.take(5)  # would overdraw: nothing taken
    assert budget.take(4)
    assert budget.remaining == 0


def test_retry_budget_overlapping_waits_count_once() -> None:
    now = [0.0]
    budget = RetryBudget(150, clock=lambda: now[0])
    # eight threads throttled together, each told Retry-After: 120
    assert all(budget.take(120) for _ in range(8))
    assert budget.remaining == 30
    now[0] += 100
    assert budget.take(30)  # 100..130 overlaps the paid-for 0..120: costs 10
    assert budget.remaining == 20
