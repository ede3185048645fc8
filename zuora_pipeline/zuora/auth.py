"""OAuth token cache: one bearer token per (base URL, client id), shared by every client in the process.

Zuora warns against minting many tokens (the token endpoint is rate-limited per
IP), so clients share tokens and refresh them under a per-key lock. A refresh after a 401
passes the token that failed: if another thread already replaced it (a newer generation), that
newer token is reused, so N threads hitting 401 together cause exactly one new token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .models import TokenResponse

DEFAULT_EXPIRES_IN = 3600.0  # Zuora: "Tokens expire after one hour"; clients use 3600 as fallback

TokenKey = tuple[str, ...]  # (normalised base URL, client id, digest of the secret)


@dataclass(frozen=True)
class CachedToken:
    access_token: str = field(repr=False)
    generation: int
    expires_at: float  # on the cache's (monotonic) clock


def token_lifetime(expires_in: float | None, margin: float) -> float:
    """Seconds to keep using a token. Refresh `margin` early, but if the token is so short-lived
    that the margin would eat it, use half its life instead of re-fetching on every request."""
    life = float(expires_in) if expires_in and expires_in > 0 else DEFAULT_EXPIRES_IN
    return life - margin if life > 2 * margin else life / 2


class TokenCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()  # guards the dicts below, never held during a fetch
        self._entries: dict[TokenKey, CachedToken] = {}
        self._key_locks: dict[TokenKey, threading.Lock] = {}
        self._generations: dict[TokenKey, int] = {}

    def __repr__(self) -> str:
        return f"TokenCache({len(self._entries)} tokens)"

    def _usable(self, entry: CachedToken | None, stale: CachedToken | None) -> bool:
        if entry is None or entry.expires_at <= self._clock():
            return False
        return stale is None or entry.generation != stale.generation

    def peek(self, key: TokenKey) -> CachedToken | None:
        with self._lock:
            entry = self._entries.get(key)
        return entry if self._usable(entry, None) else None

    def get(
        self,
        key: TokenKey,
        fetch: Callable[[], TokenResponse],
        *,
        margin: float,
        stale: CachedToken | None = None,
    ) -> CachedToken:
        """A usable token for `key`, fetching one if needed. `stale` is a token the server just
        rejected: it is replaced unless another thread has replaced it already."""
        with self._lock:
            entry = self._entries.get(key)
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        if self._usable(entry, stale):
            return entry  # type: ignore[return-value]
        with key_lock:
            with self._lock:
                entry = self._entries.get(key)
            if self._usable(entry, stale):
                return entry  # type: ignore[return-value]
            response = fetch()  # raises on failure; the old entry stays for other keys' sake
            with self._lock:
                generation = self._generations.get(key, 0) + 1
                self._generations[key] = generation
                new = CachedToken(
                    access_token=response.access_token,
                    generation=generation,
                    expires_at=self._clock() + token_lifetime(response.expires_in, margin),
                )
                self._entries[key] = new
            return new

    def invalidate(self, key: TokenKey) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# The process-wide cache every client uses unless given its own.
DEFAULT_TOKEN_CACHE = TokenCache()
