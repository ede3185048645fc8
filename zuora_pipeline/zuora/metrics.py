"""Counters of one client's API usage (thread-safe), flattened for Dagster metadata."""

from __future__ import annotations

import threading
from collections import Counter


class ClientMetrics:
    """Requests by endpoint kind ("token", "list", "export", "get") and status, retries by reason,
    bytes received (on the wire, i.e. compressed), seconds spent in requests, tokens fetched,
    401-driven refreshes and the highest number of requests in flight observed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()
        self.retries: Counter[str] = Counter()
        self.bytes_received = 0
        self.request_seconds = 0.0
        self.retry_wait_seconds = 0.0
        self.tokens_fetched = 0
        self.token_refreshes = 0
        self.max_in_flight = 0

    def record_request(self, kind: str, status: int | str, seconds: float, nbytes: int) -> None:
        with self._lock:
            self.requests[(kind, str(status))] += 1
            self.request_seconds += seconds
            self.bytes_received += nbytes

    def record_retry(self, reason: str, wait: float) -> None:
        with self._lock:
            self.retries[reason] += 1
            self.retry_wait_seconds += wait

    def record_token(self) -> None:
        with self._lock:
            self.tokens_fetched += 1

    def record_refresh(self) -> None:
        with self._lock:
            self.token_refreshes += 1

    def observe_in_flight(self, n: int) -> None:
        with self._lock:
            self.max_in_flight = max(self.max_in_flight, n)

    def requests_total(self, kind: str | None = None) -> int:
        with self._lock:
            return sum(n for (k, _), n in self.requests.items() if kind is None or k == kind)

    def retries_total(self) -> int:
        with self._lock:
            return sum(self.retries.values())

    def as_dict(self) -> dict[str, int | float]:
        """Flat name -> number, e.g. {"requests_total": 42, "requests_export": 40,
        "requests_export_200": 39, "retries_429": 1, ...}."""
        with self._lock:
            out: dict[str, int | float] = {
                "requests_total": sum(self.requests.values()),
                "retries_total": sum(self.retries.values()),
                "bytes_received": self.bytes_received,
                "request_seconds": round(self.request_seconds, 6),
                "retry_wait_seconds": round(self.retry_wait_seconds, 6),
                "tokens_fetched": self.tokens_fetched,
                "token_refreshes": self.token_refreshes,
                "max_in_flight": self.max_in_flight,
            }
            by_kind: Counter[str] = Counter()
            for (kind, status), n in sorted(self.requests.items()):
                by_kind[kind] += n
                out[f"requests_{kind}_{status}"] = n
            for kind, n in sorted(by_kind.items()):
                out[f"requests_{kind}"] = n
            for reason, n in sorted(self.retries.items()):
                out[f"retries_{reason}"] = n
            return out
