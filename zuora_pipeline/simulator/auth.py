"""Bearer tokens: issue, look up (with expiry) and revoke. A token maps to exactly one tenant,
which is how one base URL serves many tenants, as Zuora's does."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    jti: str
    scope: str
    expires_in: int


class TokenRegistry:
    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (tenant, monotonic expiry)

    def issue(self, tenant: str, ttl: int, tenant_number: int) -> IssuedToken:
        token = secrets.token_hex(16)  # 32 hex characters, like Zuora's sample
        self._tokens[token] = (tenant, time.monotonic() + ttl)
        if len(self._tokens) > 10_000:
            self._purge_expired()
        scope = (
            f"user.{secrets.token_hex(16)} entity.{_uuid_like()} service.workflow.read "
            f"service.echo.read tenant.{tenant_number}"
        )
        return IssuedToken(access_token=token, jti=secrets.token_hex(16), scope=scope, expires_in=ttl)

    def tenant_for(self, token: str | None) -> str | None:
        if not token:
            return None
        entry = self._tokens.get(token)
        if entry is None:
            return None
        tenant, expires_at = entry
        if time.monotonic() >= expires_at:
            del self._tokens[token]
            return None
        return tenant

    def revoke(self, tenant: str | None = None) -> int:
        doomed = [t for t, (owner, _) in self._tokens.items() if tenant is None or owner == tenant]
        for token in doomed:
            del self._tokens[token]
        return len(doomed)

    def _purge_expired(self) -> None:
        now = time.monotonic()
        for token in [t for t, (_, exp) in self._tokens.items() if exp <= now]:
            del self._tokens[token]


def _uuid_like() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
