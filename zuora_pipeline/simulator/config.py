"""Start-up and runtime knobs of the simulator.

The dataclass is frozen so a running server swaps whole configs (``dataclasses.replace``)
instead of mutating one field at a time: a request always sees a consistent set of limits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# Endpoint names used by stats, fault rates and fault rules ("any" matches all of them).
ENDPOINTS: tuple[str, ...] = ("token", "list", "get", "export", "versions")
FAULT_ENDPOINTS: tuple[str, ...] = (*ENDPOINTS, "any")
FAULT_KINDS: tuple[str, ...] = (
    "500",
    "502",
    "503",
    "429",
    "timeout",
    "drop",
    "malformed",
    "401",
    "404",
    "empty",
    "mutate",
    "loop",  # list only: next_page names the page just served (a server ignoring `page`)
)

PageLengthOverMax = Literal["clamp", "reject"]
LastPageNext = Literal["omit", "null", "empty"]
NoActiveVersionRepr = Literal["null", "empty", "missing"]
RetryAfterMode = Literal["header", "absent"]

# Knobs an admin may change at runtime through /__admin/limits and /__admin/options.
LIMIT_FIELDS: tuple[str, ...] = ("latency_ms", "max_concurrency", "retry_after", "rate_per_minute", "token_ttl")
OPTION_FIELDS: tuple[str, ...] = (
    "page_length_over_max",
    "last_page_next",
    "no_active_version_repr",
    "bad_credentials_status",
    "retry_after_mode",
)


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that shapes a simulator run; defaults mimic real Zuora where it is known."""

    tenants: int = 2
    workflows: int = 20
    tasks: int = 5
    seed: int = 1
    latency_ms: float = 0.0
    max_concurrency: int | None = None
    retry_after: str = "120"  # Zuora's documented concurrency back-off
    retry_after_mode: RetryAfterMode = "header"  # "absent": only RateLimit-Reset tells when to retry
    rate_per_minute: int | None = None
    token_ttl: int = 3599  # the expires_in of Zuora's sample token
    page_length_over_max: PageLengthOverMax = "clamp"
    last_page_next: LastPageNext = "omit"
    no_active_version_repr: NoActiveVersionRepr = "null"
    bad_credentials_status: int = 401
    fault_rates: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    fault_seed: int = 0
    hang_s: float = 10.0

    def __post_init__(self) -> None:
        _check(self.tenants >= 0, "tenants must be >= 0")
        _check(self.workflows >= 0, "workflows must be >= 0")
        _check(self.tasks >= 0, "tasks must be >= 0")
        _check(self.latency_ms >= 0, "latency_ms must be >= 0")
        _check(self.max_concurrency is None or self.max_concurrency >= 1, "max_concurrency must be >= 1 or None")
        _check(self.rate_per_minute is None or self.rate_per_minute >= 1, "rate_per_minute must be >= 1 or None")
        _check(self.token_ttl >= 1, "token_ttl must be >= 1")
        _check(isinstance(self.retry_after, str) and self.retry_after != "", "retry_after must be a non-empty string")
        _check(self.retry_after_mode in ("header", "absent"), "retry_after_mode must be header|absent")
        _check(self.page_length_over_max in ("clamp", "reject"), "page_length_over_max must be clamp|reject")
        _check(self.last_page_next in ("omit", "null", "empty"), "last_page_next must be omit|null|empty")
        _check(
            self.no_active_version_repr in ("null", "empty", "missing"),
            "no_active_version_repr must be null|empty|missing",
        )
        _check(self.bad_credentials_status in (400, 401), "bad_credentials_status must be 400 or 401")
        _check(self.hang_s >= 0, "hang_s must be >= 0")
        validate_fault_rates(self.fault_rates)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["fault_rates"] = {ep: dict(kinds) for ep, kinds in self.fault_rates.items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SimulatorConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        _check(not unknown, f"unknown config keys: {sorted(unknown)}")
        return cls(**dict(data))


def validate_fault_rates(rates: Mapping[str, Mapping[str, float]]) -> None:
    for endpoint, kinds in rates.items():
        _check(endpoint in FAULT_ENDPOINTS, f"unknown fault endpoint {endpoint!r}; choose from {FAULT_ENDPOINTS}")
        total = 0.0
        for kind, prob in kinds.items():
            _check(kind in FAULT_KINDS, f"unknown fault kind {kind!r}; choose from {FAULT_KINDS}")
            _check(0.0 <= float(prob) <= 1.0, f"fault probability for {endpoint}:{kind} must be in [0, 1]")
            total += float(prob)
        _check(total <= 1.0 + 1e-9, f"fault probabilities for {endpoint} add up to more than 1")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
