"""Typed errors raised by the Zuora client.

Every error carries the customer, the endpoint ("GET /workflows/123/export") and the HTTP status so
the caller (Dagster assets, the CLI) can report one readable line. Messages are built by the client
from already-scrubbed text: no error may ever contain a client secret or an access token.
"""

from __future__ import annotations

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


class ZuoraRequestError(ZuoraError):
    """Any other 4xx (or a redirect): the request itself is wrong, retrying cannot help."""


class ZuoraConnectionError(ZuoraError):
    """Connect errors, timeouts or dropped connections that outlasted the retries."""


class UnsafeBaseUrlError(ZuoraError, ValueError):
    """A base URL (or next_page URL) outside Zuora's hosts and the operator's allow-list."""
