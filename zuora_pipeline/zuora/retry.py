"""When and how long to wait before retrying a single call.

429s honour the server's `Retry-After` (seconds or HTTP-date) or `RateLimit-Reset`, capped; other
transient failures (5xx, connect errors, timeouts, dropped connections) use exponential backoff with
full jitter so many threads do not retry in lock-step. A per-client retry budget bounds the total
time spent waiting, so a tenant that is down cannot stall a sync for max_attempts x backoff_max
per workflow. A caller that stops (Ctrl-C, a failed fetch) ends the waits through its cancel event.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUS: frozenset[int] = frozenset({429, 500, 502, 503, 504})


class RequestCancelled(Exception):
    """The caller's cancel event was set: the request was not sent, or not tried again."""


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds to wait (>= 0), or None if absent or unparseable.

    Accepts delta-seconds ("120", tolerantly "1.5") and HTTP-dates ("Wed, 21 Oct 2015 07:28:00 GMT");
    a date in the past means 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def parse_ratelimit_reset(value: str | None) -> float | None:
    """`RateLimit-Reset`: seconds until the window resets (IETF draft; Zuora sends an integer)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip().split(",")[0].split(";")[0])
    except ValueError:
        return None
    if math.isnan(seconds) or seconds == float("inf"):
        return None
    return max(0.0, seconds)


@dataclass
class Backoff:
    """Pure wait computation; `rng` is injectable so tests can assert exact waits."""

    base: float
    cap: float
    max_retry_wait: float
    rng: random.Random | None = None

    def _random(self) -> float:
        return (self.rng or _shared_rng).random()

    def exponential(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))] (attempt counts from 1)."""
        ceiling = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        return ceiling * self._random()

    def throttled(self, attempt: int, server_wait: float | None) -> float:
        """Wait after a 429. Never shorter than the server asked (up to max_retry_wait), never an
        instant retry (Retry-After: 0 from a busy server would otherwise spin), plus a little jitter
        so the threads that were throttled together do not come back together."""
        jitter = self.base * self._random()
        if server_wait is None:
            return max(self.base, self.exponential(attempt)) + jitter
        return max(min(server_wait, self.max_retry_wait), self.base) + jitter


_shared_rng = random.Random()


class RetryBudget:
    """Wall-clock seconds a client may spend waiting on retries (thread-safe).

    Waits that overlap count once: eight threads sleeping through the same 120 s Retry-After cost
    120 s of budget, not 960 s, so a throttled-but-healthy sync is not failed for waiting in parallel.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._remaining = seconds
        self._clock = clock
        self._covered_until = float("-inf")  # end of the latest wait already paid for
        self._lock = threading.Lock()

    @property
    def remaining(self) -> float:
        with self._lock:
            return self._remaining

    def take(self, seconds: float) -> bool:
        """Reserve a wait of `seconds` starting now; False (nothing reserved) if the budget cannot
        cover the part of it not already covered by other threads' waits."""
        with self._lock:
            start = self._clock()
            end = start + seconds
            cost = max(0.0, end - max(start, self._covered_until))
            if cost > self._remaining:
                return False
            self._remaining -= cost
            self._covered_until = max(self._covered_until, end)
            return True


Sleep = Callable[[float], None]
