"""Caps the client's requests in flight, and lowers the cap while Zuora throttles (AIMD).

Zuora allows ~40 concurrent requests per tenant and answers more with 429 + Retry-After: 120
so one client stays well below that, and on a 429 halves its own cap
(multiplicative decrease) and earns it back one slot per `recovery_successes` successes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ConcurrencyLimiter:
    def __init__(self, cap: int, *, adaptive: bool = True, recovery_successes: int = 10) -> None:
        if cap < 1:
            raise ValueError("concurrency cap must be >= 1")
        self.cap = cap
        self.adaptive = adaptive
        self.recovery_successes = recovery_successes
        self._limit = cap
        self._lowest_limit = cap
        self._in_flight = 0
        self._max_in_flight = 0
        self._successes = 0
        # Bumped on every decrease: a 429 only halves the cap if its request started after the last
        # decrease, so a burst of 429s from one window counts once (as TCP does per RTT).
        self._epoch = 0
        self._cond = threading.Condition()

    @property
    def limit(self) -> int:
        with self._cond:
            return self._limit

    @property
    def lowest_limit(self) -> int:
        """The lowest the cap went: how hard Zuora throttled this client."""
        with self._cond:
            return self._lowest_limit

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        with self._cond:
            return self._max_in_flight

    @contextmanager
    def slot(self) -> Iterator[int]:
        """Hold one in-flight slot; yields the epoch the request started in (for `throttled`)."""
        with self._cond:
            while self._in_flight >= self._limit:
                self._cond.wait()
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            epoch = self._epoch
        try:
            yield epoch
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify()

    def throttled(self, epoch: int) -> None:
        if not self.adaptive:
            return
        with self._cond:
            if epoch != self._epoch:
                return
            self._limit = max(1, self._limit // 2)
            self._lowest_limit = min(self._lowest_limit, self._limit)
            self._epoch += 1
            self._successes = 0

    def succeeded(self) -> None:
        if not self.adaptive:
            return
        with self._cond:
            if self._limit >= self.cap:
                return
            self._successes += 1
            if self._successes >= self.recovery_successes:
                self._successes = 0
                self._limit += 1
                self._cond.notify()
