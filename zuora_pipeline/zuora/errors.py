"""Typed errors raised by the Zuora client.

Every error carries the customer, the endpoint ("GET /workflows/123/export") and the HTTP status so
the caller (Dagster assets, the CLI) can report one readable line. Messages are built by the client
from already-scrubbed text: no error may ever contain a client secret or an access token.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_EXCERPT = 200


def excerpt(text: str, limit: int = MAX_EXCERPT) -> str:
    """One line, at most `limit` characters: enough to recognise a body, never a whole payload."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class ZuoraError(Exception):
    """Base of every error the client raises."""

    def __init__(
        self,
        message: str,
        *,
        customer: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.customer = customer
        self.endpoint = endpoint
        self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        # Only the scrubbed message and the routing fields: never request data.
        return (
            f"{type(self).__name__}({self.message!r}, customer={self.customer!r}, "
            f"endpoint={self.endpoint!r}, status={self.status!r})"
        )

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Keep errors picklable (Dagster ships failures between processes).
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[ZuoraError], message: str, state: dict[str, object]) -> ZuoraError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class ZuoraAuthenticationError(ZuoraError):
    """Bad credentials, or a 401 that survived one token refresh. Never retried."""


class ZuoraRateLimitedError(ZuoraError):
    """429 responses outlasted the retries or the retry budget."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ZuoraServerError(ZuoraError):
    """5xx responses outlasted the retries."""


class ZuoraMalformedResponseError(ZuoraError):
    """A response that is not the JSON shape Zuora documents (invalid JSON, missing `data`, ...)."""

    def __init__(self, message: str, *, body_excerpt: str = "", **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.body_excerpt = body_excerpt


class ZuoraValidationError(ZuoraMalformedResponseError):
    """A required field is missing or unusable; the message names the field and the workflow id."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        workflow_id: object = None,
        **kw: object,
    ) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.field = field
        self.workflow_id = workflow_id


class ZuoraNotFoundError(ZuoraError):
    """404: the workflow (or version) does not exist (any more)."""


class ZuoraPaginationError(ZuoraError):
    """The listing cannot be trusted: a next_page loop, repeated ids, a page cap or a foreign next_page."""


class ZuoraListingChangedError(ZuoraPaginationError):
    """Workflows were added or deleted while the pages were walked (ids shifted between pages, or a
    workflow missing from the listing still exists): listing again later is expected to succeed."""


class ZuoraRequestError(ZuoraError):
    """Any other 4xx (or a redirect): the request itself is wrong, retrying cannot help."""


class ZuoraConnectionError(ZuoraError):
    """Connect errors, timeouts or dropped connections that outlasted the retries."""


class UnsafeBaseUrlError(ZuoraError, ValueError):
    """A base URL (or next_page URL) outside Zuora's hosts and the operator's allow-list."""


# ---------------------------------------------------------------------------------------------
# What each error means for the caller: worth another request within the run, and worth a step
# retry minutes later. The one table every layer above consults (by type, most specific first).


@dataclass(frozen=True)
class Handling:
    fetch_again: bool  # another request within this run may succeed (a lost or garbled answer)
    retry_later: bool  # transient: a retry minutes later may succeed; False = fail fast


_FINAL = Handling(fetch_again=False, retry_later=False)

ERROR_HANDLING: dict[type[ZuoraError], Handling] = {
    # The request, the credentials or the tenant's answer is wrong: it would fail the same way.
    ZuoraAuthenticationError: _FINAL,
    UnsafeBaseUrlError: _FINAL,
    ZuoraPaginationError: _FINAL,  # loop, page cap, ids repeated within a page, foreign next_page
    ZuoraRequestError: _FINAL,  # a 4xx other than 401/404/429, or a redirect
    ZuoraNotFoundError: _FINAL,
    ZuoraValidationError: _FINAL,  # valid JSON missing a required field: Zuora sends it so each time
    # Invalid JSON or no `data` array: a proxy's error page or a truncated body is worth another
    # request, but one that persisted through those is what the tenant serves.
    ZuoraMalformedResponseError: Handling(fetch_again=True, retry_later=False),
    # The listing moved under the walk: walking it again (a step retry) is the remedy.
    ZuoraListingChangedError: Handling(fetch_again=False, retry_later=True),
    # Zuora or the network was unwell for longer than the client's retries.
    ZuoraServerError: Handling(fetch_again=True, retry_later=True),
    ZuoraConnectionError: Handling(fetch_again=True, retry_later=True),
    ZuoraRateLimitedError: Handling(fetch_again=True, retry_later=True),
}


def handling(error: ZuoraError) -> Handling:
    for cls in type(error).__mro__:
        if cls in ERROR_HANDLING:
            return ERROR_HANDLING[cls]  # type: ignore[index]
    return _FINAL  # a ZuoraError subclass nobody classified: do not loop on the unknown


# ---------------------------------------------------------------------------------------------
# Error bodies Zuora is known to send: /v1 `reasons[]`, the Workflow service's `errors[]` of
# objects or strings, `Errors[]`, a gateway `{"message": ...}`, `{"code","message"}`, OAuth-style
# `{"error","error_description"}`, or plain text/HTML.


def _item_text(item: object) -> str:
    if isinstance(item, str):
        return item.strip()
    if not isinstance(item, dict):
        return str(item) if item is not None else ""
    text = next(
        (str(item[k]).strip() for k in ("message", "title", "detail", "error_description", "error") if item.get(k)),
        "",
    )
    field = item.get("fieldName") or item.get("field")
    code = item.get("code")
    prefix = f"{field}: " if field else ""
    suffix = f" (code {code})" if code not in (None, "") and str(code) not in text else ""
    return f"{prefix}{text}{suffix}".strip() if (text or suffix) else ""


def parse_error_body(body: bytes | str | dict | None) -> str:  # type: ignore[type-arg]
    """A one-line human message from any error body shape; never raises."""
    import json

    if body is None:
        return "(empty response body)"
    data: object = body
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", "replace")
    if isinstance(body, str):
        if not body.strip():
            return "(empty response body)"
        try:
            data = json.loads(body)
        except ValueError:
            return excerpt(body)
    if isinstance(data, list):
        data = {"errors": data}
    if not isinstance(data, dict):
        return excerpt(str(data))
    parts: list[str] = []
    for key in ("reasons", "errors", "Errors"):
        value = data.get(key)
        if isinstance(value, list):
            parts.extend(t for t in (_item_text(i) for i in value) if t)
        elif isinstance(value, (str, dict)):
            text = _item_text(value)
            if text:
                parts.append(text)
    if not parts:
        top = _item_text(data)
        if top:
            parts.append(top)
    if not parts:
        return excerpt(json.dumps(data, sort_keys=True, default=str))
    return excerpt("; ".join(parts), 300)
