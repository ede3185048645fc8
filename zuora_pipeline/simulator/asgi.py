"""Minimal raw-ASGI plumbing: a parsed request and a reply sender.

The simulator speaks raw ASGI rather than through a framework because it must misbehave on
purpose (announce a Content-Length and then drop the connection) and because every
microsecond per request counts towards the >= 1,000 requests/s target on two cores.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Header = tuple[bytes, bytes]

GZIP_MIN_BYTES = 1000  # Zuora gzips responses "over 1,000 bytes" when asked
_JSON = (b"content-type", b"application/json; charset=utf-8")


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[bytes, bytes]
    scheme: str
    server: tuple[str, int] | None

    @classmethod
    def from_scope(cls, scope: Scope) -> Request:
        raw_query = scope.get("query_string", b"")
        query = dict(parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)) if raw_query else {}
        return cls(
            method=scope["method"],
            path=scope["path"],
            query=query,
            headers=dict(scope["headers"]),
            scheme=scope.get("scheme", "http"),
            server=scope.get("server"),
        )

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return None if value is None else value.decode("latin-1")

    def bearer_token(self) -> str | None:
        value = self.headers.get(b"authorization")
        if value is None:
            return None
        scheme, _, token = value.decode("latin-1").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def accepts_gzip(self) -> bool:
        value = self.headers.get(b"accept-encoding", b"").lower()
        return b"gzip" in value and b"gzip;q=0" not in value.replace(b" ", b"")

    def base_url(self) -> str:
        host = self.header(b"host")
        if not host and self.server:
            host = f"{self.server[0]}:{self.server[1]}"
        return f"{self.scheme}://{host or 'localhost'}"


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    headers: list[Header] = field(default_factory=list)
    gz: bytes | None = None  # a cached gzip form of body, if the caller has one
    on_gzip: Callable[[bytes], None] | None = None  # lets the caller cache the gzip it did not have


async def read_body(receive: Receive, limit: int = 16 * 1024 * 1024) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ValueError("request body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def send_reply(
    send: Send, request: Request, reply: Reply, *, extra_headers: Sequence[Header] = (), mode: str = "normal"
) -> None:
    """Send ``reply``; ``mode`` "malformed" truncates the JSON (valid HTTP, invalid body) and
    "drop" announces the full Content-Length, sends half, then returns so uvicorn closes the
    connection mid-body."""
    body = reply.body
    headers: list[Header] = [_JSON, (b"zuora-request-id", str(uuid.uuid4()).encode())]
    track = request.headers.get(b"zuora-track-id")
    if track is not None:
        headers.append((b"zuora-track-id", track))
    names = {name for name, _ in reply.headers}
    headers.extend(h for h in extra_headers if h[0] not in names)  # the reply's own headers win
    headers.extend(reply.headers)
    if mode == "malformed":
        body = body[: max(1, len(body) // 2)]
    elif len(body) > GZIP_MIN_BYTES and request.accepts_gzip():
        compressed = reply.gz
        if compressed is None:
            compressed = gzip.compress(body, compresslevel=5, mtime=0)
            if reply.on_gzip is not None:
                reply.on_gzip(compressed)
        body = compressed
        headers.append((b"content-encoding", b"gzip"))
        headers.append((b"vary", b"Accept-Encoding"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    if mode == "drop":
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        return
    await send({"type": "http.response.body", "body": body})
