"""Request counters the admin API reports; tests use them to prove client behaviour."""

from __future__ import annotations

from collections import Counter
from typing import Any

from zuora_pipeline.simulator.config import ENDPOINTS
from zuora_pipeline.simulator.limits import InFlight


class Stats:
    def __init__(self) -> None:
        self.in_flight = InFlight()
        self.reset()

    def reset(self) -> None:
        self.requests: Counter[str] = Counter()
        self.by_endpoint: Counter[str] = Counter({endpoint: 0 for endpoint in ENDPOINTS})
        self.tokens_issued: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self.in_flight_limit_rejections = 0
        self.requests_total = 0
        self.in_flight.reset_peaks()

    def record(self, endpoint: str, status: int) -> None:
        self.requests[f"{endpoint} {status}"] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "by_endpoint": dict(self.by_endpoint),
            "max_in_flight": dict(self.in_flight.peak),
            "in_flight": {t: n for t, n in self.in_flight.current.items() if n},
            "tokens_issued": dict(self.tokens_issued),
            "faults_injected": dict(self.faults_injected),
            "in_flight_limit_rejections": self.in_flight_limit_rejections,
            "requests_total": self.requests_total,
        }
