"""Per-tenant request-rate windows and concurrency bookkeeping.

The concurrency peak is measured on arrival, before the cap is enforced, so a client that
over-subscribes shows up in ``max_in_flight`` even though the surplus requests got 429s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        # Shape of Zuora's headers: the quota closest to exhaustion, with its window.
        return [
            (b"ratelimit-limit", f"{self.limit}, {self.limit};w=60".encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset_s).encode()),
        ]


class RateWindows:
    """Fixed one-minute windows aligned to the wall clock, one per tenant."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}  # tenant -> (window index, count)

    def hit(self, tenant: str, limit: int, now: float | None = None) -> RateDecision:
        now = time.time() if now is None else now
        window = int(now // 60)
        current, count = self._windows.get(tenant, (window, 0))
        if current != window:
            count = 0
        reset_s = max(1, int(60 - (now % 60) + 0.999))
        if count >= limit:
            self._windows[tenant] = (window, count)
            return RateDecision(False, limit, 0, reset_s)
        count += 1
        self._windows[tenant] = (window, count)
        return RateDecision(True, limit, limit - count, reset_s)

    def clear(self) -> None:
        self._windows.clear()


class InFlight:
    def __init__(self) -> None:
        self.current: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    def enter(self, tenant: str) -> int:
        value = self.current.get(tenant, 0) + 1
        self.current[tenant] = value
        if value > self.peak.get(tenant, 0):
            self.peak[tenant] = value
        return value

    def leave(self, tenant: str) -> None:
        self.current[tenant] = self.current.get(tenant, 1) - 1

    def reset_peaks(self) -> None:
        # Requests still in flight keep counting towards the next peak.
        self.peak = {t: n for t, n in self.current.items() if n > 0}
