"""Tunables of one ZuoraClient."""

from __future__ import annotations

from dataclasses import dataclass

ZUORA_MAX_PAGE_LENGTH = 50  # GET /workflows rejects or clamps more

# Requests in flight per customer sync unless the customer sets its own (`customers add/update
# --max-concurrency`). Zuora limits concurrent requests per tenant, 40 by default (Performance
# Booster and high-volume tenants have more), shared by every integration and UI user of that
# tenant: half of the default limit leaves the other half to them.
DEFAULT_CONCURRENCY = 20


@dataclass(frozen=True)
class ClientSettings:
    page_length: int = ZUORA_MAX_PAGE_LENGTH
    max_pages: int = 10_000  # a listing longer than this is treated as a loop
    concurrency: int = DEFAULT_CONCURRENCY
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 6  # per single call, the first try included
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_wait: float = 120.0  # Zuora's concurrency 429 says Retry-After: 120
    retry_budget_s: float = 300.0  # total sleeping on retries per client
    token_refresh_margin_s: float = 60.0
    allowed_hosts: tuple[str, ...] = ()  # beside Zuora's REST hosts; the `zuora` resource's field
    adaptive_concurrency: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.page_length <= ZUORA_MAX_PAGE_LENGTH:
            raise ValueError(f"page_length must be 1..{ZUORA_MAX_PAGE_LENGTH}")
        if self.max_pages < 1 or self.concurrency < 1 or self.max_attempts < 1:
            raise ValueError("max_pages, concurrency and max_attempts must be >= 1")
        for name in ("connect_timeout", "read_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        for name in ("backoff_base", "backoff_max", "max_retry_wait", "retry_budget_s", "token_refresh_margin_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if isinstance(self.allowed_hosts, str):  # a lone "host:port" would iterate by character
            object.__setattr__(self, "allowed_hosts", (self.allowed_hosts,))
