"""ZuoraClient: single requests to Zuora's Workflow API and the sequential page walk.

The requests: a token, one list page (by number or URL), one workflow, one export. Each goes
through one retry loop (`_request`): transport errors, 429 (waiting as Retry-After or
RateLimit-Reset say), and 5xx are tried again with backoff within the client's attempts and retry
budget, a 401 gets a new token and is replayed once, and a malformed list page or workflow is asked
for again. A caller's ``cancel`` event ends a wait between attempts at once and allows no further
attempt (RequestCancelled).

The client starts no threads. It is safe to share between threads (a sync httpx.Client with a
keep-alive pool), and every HTTP request takes a slot of one ConcurrencyLimiter, so the client never
has more than `settings.concurrency` requests in flight, whatever mix of requests its callers run.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

import httpx
import orjson
from pydantic import ValidationError

from .auth import DEFAULT_TOKEN_CACHE, CachedToken, TokenCache
from .errors import (
    ZuoraAuthenticationError,
    ZuoraConnectionError,
    ZuoraError,
    ZuoraMalformedResponseError,
    ZuoraNotFoundError,
    ZuoraRateLimitedError,
    ZuoraRequestError,
    ZuoraServerError,
    excerpt,
    parse_error_body,
)
from .limiter import ConcurrencyLimiter
from .metrics import ClientMetrics
from .models import TokenResponse, WorkflowListItem, export_task_ids, parse_list_item, parse_model
from .pagination import PageWalk
from .results import FetchedPage, WorkflowExport, WorkflowPage
from .retry import (
    RETRYABLE_STATUS,
    Backoff,
    RequestCancelled,
    RetryBudget,
    Sleep,
    parse_ratelimit_reset,
    parse_retry_after,
)
from .settings import ClientSettings
from .urls import check_base_url, url_path

USER_AGENT = "zuora-pipeline/0.1 (+httpx)"
REDACTED = "[REDACTED]"

T = TypeVar("T")

# Transport failures worth another try: the request may never have reached Zuora, or the answer
# was lost on the way back (all our calls are reads, or the idempotent token grant).
_RETRYABLE_TRANSPORT: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.DecodingError,
)


def _transport_reason(exc: Exception) -> str:
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return "connect_error"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.DecodingError):
        return "decoding_error"
    return "dropped_connection"


def _persisted(error: ZuoraMalformedResponseError, tries: int) -> ZuoraMalformedResponseError:
    if tries > 1:
        error.message = f"{error.message} (in each of {tries} attempt(s))"
        error.args = (error.message,)
    return error


class _Secrets:
    """The client secret and every token the client has sent, kept out of any repr/vars() dump,
    and able to scrub them from server-provided text (an echoing server would show them)."""

    __slots__ = ("_lock", "_secret", "_tokens")

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._tokens: set[str] = set()  # a few per day
        self._lock = threading.Lock()

    def reveal(self) -> str:
        return self._secret

    def saw_token(self, token: str) -> None:
        with self._lock:
            self._tokens.add(token)

    def scrub(self, text: str, *extra: str | None) -> str:
        with self._lock:
            known = set(self._tokens)
        # The secret raw and form-encoded (as it travels in the token request body).
        for s in (
            {self._secret, quote_plus(self._secret), quote(self._secret, safe="")} | known | {e for e in extra if e}
        ):
            if s:
                text = text.replace(s, REDACTED)
        return text

    def __repr__(self) -> str:
        return "_Secrets('***')"

    __str__ = __repr__


def workflow_id_int(workflow_id: int | str) -> int:
    """Definition ids are integers; a numeric string is accepted. Anything else is refused before it
    can reach a URL path (e.g. "1/../../oauth")."""
    if isinstance(workflow_id, bool):
        raise ValueError(f"not a workflow id: {workflow_id!r}")
    if isinstance(workflow_id, int):
        return workflow_id
    if isinstance(workflow_id, str) and workflow_id.strip().isdigit():
        return int(workflow_id.strip())
    raise ValueError(f"not a workflow id: {workflow_id!r}")


class ZuoraClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        customer: str,
        settings: ClientSettings | None = None,
        transport: httpx.BaseTransport | None = None,
        token_cache: TokenCache | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or ClientSettings()
        self.customer = customer
        # First, before anything can make a request: where is this client allowed to send secrets?
        try:
            self.base_url = check_base_url(base_url, self.settings.allowed_hosts)
        except ZuoraError as err:
            err.customer = customer
            raise
        self.client_id = client_id
        self._secret = _Secrets(client_secret)
        # The secret's digest is part of the key: after a credential rotation (or a wrong secret)
        # a token minted with the old secret must not keep being reused until it expires.
        self._token_key = (self.base_url, client_id, hashlib.sha256(client_secret.encode()).hexdigest()[:16])
        self._tokens = token_cache if token_cache is not None else DEFAULT_TOKEN_CACHE
        self.metrics = ClientMetrics()
        s = self.settings
        self._limiter = ConcurrencyLimiter(s.concurrency, adaptive=s.adaptive_concurrency)
        self._backoff = Backoff(base=s.backoff_base, cap=s.backoff_max, max_retry_wait=s.max_retry_wait, rng=rng)
        self._budget = RetryBudget(s.retry_budget_s, clock=clock)
        # None: wall-clock waits, which a caller's cancel event ends early; tests pass a fake clock.
        self._sleep = sleep
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(
                connect=s.connect_timeout,
                read=s.read_timeout,
                write=s.read_timeout,
                # The limiter already bounds requests to the pool size, so waiting for a pooled
                # connection should be quick; a long wait means something is stuck.
                pool=s.connect_timeout + s.read_timeout,
            ),
            # +1 so a token fetch never waits for a connection held by an export.
            limits=httpx.Limits(max_connections=s.concurrency + 1, max_keepalive_connections=s.concurrency + 1),
            headers={"Accept": "application/json", "Accept-Encoding": "gzip", "User-Agent": USER_AGENT},
            # Never follow redirects: a redirect could carry the bearer token to another host.
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"ZuoraClient(customer={self.customer!r}, base_url={self.base_url!r})"

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ZuoraClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def limiter(self) -> ConcurrencyLimiter:
        return self._limiter

    # -- secrets hygiene -----------------------------------------------------------------------

    def _scrub(self, text: str, *tokens: str | None) -> str:
        """Remove the secret and tokens from server text before it goes into an error message."""
        return self._secret.scrub(text, *tokens)

    def _body_message(self, response: httpx.Response, token: str | None = None) -> str:
        try:
            content = response.content
        except httpx.HTTPError:
            return "(unreadable response body)"
        return self._scrub(parse_error_body(content), token)

    def _err(self, cls: type[ZuoraError], message: str, endpoint: str, status: int | None, **kw: Any) -> ZuoraError:
        return cls(
            f"customer {self.customer!r}: {message}", customer=self.customer, endpoint=endpoint, status=status, **kw
        )

    # -- one HTTP exchange -----------------------------------------------------------------------

    def _exchange(
        self, kind: str, endpoint: str, request: httpx.Request, cancel: threading.Event | None
    ) -> tuple[httpx.Response | Exception, int]:
        """Send under a limiter slot, reading the whole body inside it. Returns the response or the
        transport exception (for the retry loop to judge) and the limiter epoch of the request."""
        with self._limiter.slot() as epoch:
            self._check_cancel(cancel, endpoint)  # the wait for a slot may have outlasted the caller
            self.metrics.observe_in_flight(self._limiter.in_flight)
            started = time.perf_counter()
            try:
                response = self._http.send(request)
            except _RETRYABLE_TRANSPORT as exc:
                self.metrics.record_request(kind, "error", time.perf_counter() - started, 0)
                return exc, epoch
            except httpx.HTTPError as exc:  # unsupported protocol, proxy errors...: not transient
                self.metrics.record_request(kind, "error", time.perf_counter() - started, 0)
                raise ZuoraConnectionError(
                    f"customer {self.customer!r}: {request.method} {url_path(str(request.url))} failed: "
                    f"{type(exc).__name__}",
                    customer=self.customer,
                    endpoint=f"{request.method} {url_path(str(request.url))}",
                ) from None
            # Wire bytes (compressed); a transport that hands over a ready body reports 0 downloaded.
            nbytes = response.num_bytes_downloaded or len(response.content)
            self.metrics.record_request(kind, response.status_code, time.perf_counter() - started, nbytes)
            return response, epoch

    # -- the retry loop --------------------------------------------------------------------------

    def _request(
        self,
        kind: str,
        endpoint: str,
        build: Callable[[str | None], httpx.Request],
        decode: Callable[[httpx.Response], T],
        *,
        bearer: bool = True,
        malformed_retried: bool = False,
        cancel: threading.Event | None = None,
    ) -> T:
        """Send ``build(token)`` until ``decode`` accepts a success, retrying what may pass on
        another attempt: transport errors, 429, 5xx, a 401 once (with a new token), and a malformed
        body if ``malformed_retried``. ``bearer``: the request carries the cached bearer token
        (every request but the token's own)."""
        failures = 0
        refreshed = False
        stale: CachedToken | None = None
        while True:
            self._check_cancel(cancel, endpoint)
            token = self._token(stale, cancel) if bearer else None
            stale = None
            access = token.access_token if token is not None else None
            outcome, epoch = self._exchange(kind, endpoint, build(access), cancel)
            server_wait: float | None = None
            if isinstance(outcome, httpx.Response):
                status = outcome.status_code
                if outcome.is_success:
                    self._limiter.succeeded()
                    try:
                        return decode(outcome)
                    except ZuoraMalformedResponseError as exc:
                        # A proxy's error page or a truncated body is usually gone on the next
                        # request; one that persists through the attempts is raised as it is.
                        if not malformed_retried:
                            raise
                        failures += 1
                        wait = self._backoff.exponential(failures)
                        self._wait_or_give_up(failures, wait, "malformed", partial(_persisted, exc, failures), cancel)
                        continue
                if status == 401 and token is not None and not refreshed:
                    # Zuora's advice: on 401 get a new token and retry once.
                    refreshed = True
                    stale = token
                    self.metrics.record_refresh()
                    continue
                if status not in RETRYABLE_STATUS:
                    raise self._refusal(outcome, endpoint, access)
                failures += 1
                reason = str(status)
                if status == 429:
                    self._limiter.throttled(epoch)
                    server_wait = parse_retry_after(outcome.headers.get("Retry-After"))
                    if server_wait is None:
                        server_wait = parse_ratelimit_reset(outcome.headers.get("RateLimit-Reset"))
                    wait = self._backoff.throttled(failures, server_wait)
                else:
                    wait = self._backoff.exponential(failures)
            else:
                failures += 1
                reason = _transport_reason(outcome)
                wait = self._backoff.exponential(failures)
            give_up = partial(self._transient_error, outcome, endpoint, failures, server_wait, access)
            self._wait_or_give_up(failures, wait, reason, give_up, cancel)

    def _check_cancel(self, cancel: threading.Event | None, endpoint: str) -> None:
        if cancel is not None and cancel.is_set():
            raise RequestCancelled(f"customer {self.customer!r}: {endpoint} cancelled")

    def _wait_or_give_up(
        self,
        failures: int,
        wait: float,
        reason: str,
        give_up: Callable[[], ZuoraError],
        cancel: threading.Event | None,
    ) -> None:
        """Wait before the next attempt, or raise if attempts or the client's retry budget ran out."""
        if failures >= self.settings.max_attempts or not self._budget.take(wait):
            raise give_up()
        self.metrics.record_retry(reason, wait)
        if self._sleep is not None:
            self._sleep(wait)
        elif cancel is not None:
            cancel.wait(wait)
        else:
            time.sleep(wait)

    def _transient_error(
        self,
        outcome: httpx.Response | Exception,
        endpoint: str,
        failures: int,
        server_wait: float | None,
        token: str | None,
    ) -> ZuoraError:
        tries = f"after {failures} attempt(s)"
        if isinstance(outcome, Exception):
            return self._err(
                ZuoraConnectionError,
                f"{endpoint} failed {tries}: {_transport_reason(outcome)} ({type(outcome).__name__})",
                endpoint,
                None,
            )
        status = outcome.status_code
        detail = self._body_message(outcome, token)
        if status == 429:
            return self._err(
                ZuoraRateLimitedError,
                f"{endpoint} still rate-limited (HTTP 429) {tries} or out of retry budget: {detail}",
                endpoint,
                status,
                retry_after=server_wait,
            )
        return self._err(ZuoraServerError, f"{endpoint} returned HTTP {status} {tries}: {detail}", endpoint, status)

    def _refusal(self, response: httpx.Response, endpoint: str, token: str | None) -> ZuoraError:
        """The error of an answer no retry can change; ``token`` is the bearer token the request
        carried, None for the token request itself."""
        status = response.status_code
        detail = self._body_message(response, token)
        if token is None:
            # The token endpoint: any such answer means the credentials (or the host) are wrong.
            return self._auth_error(f"HTTP {status} from {endpoint}: {detail}", status)
        if status == 401:
            err = self._auth_error(f"{endpoint} still returned HTTP 401 after a token refresh: {detail}", 401)
            err.endpoint = endpoint
            return err
        if status == 404:
            message = f"{endpoint} returned HTTP 404 (not found): {detail}"
            return self._err(ZuoraNotFoundError, message, endpoint, status)
        if 300 <= status < 400:
            where = self._scrub(response.headers.get("Location", "?"), token)
            return self._err(
                ZuoraRequestError,
                f"{endpoint} redirected (HTTP {status}) to {excerpt(where, 120)}; redirects are not followed",
                endpoint,
                status,
            )
        if status >= 500:
            return self._err(ZuoraServerError, f"{endpoint} returned HTTP {status}: {detail}", endpoint, status)
        hint = " (does the API user have the Workflow permission?)" if status == 403 else ""
        return self._err(ZuoraRequestError, f"{endpoint} returned HTTP {status}{hint}: {detail}", endpoint, status)

    # -- OAuth ---------------------------------------------------------------------------------

    def _auth_error(self, detail: str, status: int | None) -> ZuoraAuthenticationError:
        return ZuoraAuthenticationError(
            f"Zuora rejected the credentials of customer {self.customer!r} at {self.base_url} ({detail}). "
            f"Check the client id and secret, then `zuora-pipeline customers update {self.customer} ...` "
            f"and `zuora-pipeline customers resume {self.customer}`.",
            customer=self.customer,
            endpoint="POST /oauth/token",
            status=status,
        )

    def _fetch_token(self, cancel: threading.Event | None = None) -> TokenResponse:
        """POST /oauth/token with the form fields (no Authorization header)."""
        endpoint = "POST /oauth/token"

        def build(_token: str | None) -> httpx.Request:
            return self._http.build_request(
                "POST",
                f"{self.base_url}/oauth/token",
                data={
                    "client_id": self.client_id,
                    "client_secret": self._secret.reveal(),
                    "grant_type": "client_credentials",
                },
            )

        def decode(response: httpx.Response) -> TokenResponse:
            try:
                data = json.loads(response.content)
            except ValueError:
                data = None
            if not isinstance(data, dict) or not data.get("access_token"):
                # No excerpt: the body may hold a token.
                raise self._err(
                    ZuoraMalformedResponseError,
                    f"{endpoint} returned HTTP {response.status_code} without an access_token",
                    endpoint,
                    response.status_code,
                )
            try:
                token = TokenResponse.model_validate(data)
            except ValidationError as exc:
                # Name the field only: pydantic's message would quote the input (the token).
                field = ".".join(str(p) for p in exc.errors(include_input=False)[0]["loc"])
                raise self._err(
                    ZuoraMalformedResponseError,
                    f"{endpoint} returned an unusable token response (field {field!r})",
                    endpoint,
                    response.status_code,
                ) from None
            self.metrics.record_token()
            return token

        return self._request("token", endpoint, build, decode, bearer=False, cancel=cancel)

    def check_credentials(self) -> None:
        """One token request, past the shared token cache, raising ZuoraAuthenticationError if Zuora
        refuses the credentials: what `customers add` does before it saves a customer."""
        self._fetch_token()

    def authenticate(self, *, cancel: threading.Event | None = None) -> None:
        """Make sure the shared cache holds a token (one token request if it has none). Requests sent
        together would otherwise each try for it, and bad credentials must cost Zuora one token
        request, not one per request."""
        self._token(None, cancel)

    def _token(self, stale: CachedToken | None, cancel: threading.Event | None) -> CachedToken:
        token = self._tokens.get(
            self._token_key,
            partial(self._fetch_token, cancel),
            margin=self.settings.token_refresh_margin_s,
            stale=stale,
        )
        self._secret.saw_token(token.access_token)
        return token

    # -- bodies ----------------------------------------------------------------------------------

    def _get(self, url: str, params: dict[str, str] | None = None) -> Callable[[str | None], httpx.Request]:
        def build(token: str | None) -> httpx.Request:
            return self._http.build_request("GET", url, params=params, headers={"Authorization": f"Bearer {token}"})

        return build

    def _decode(self, response: httpx.Response, endpoint: str, what: str) -> dict[str, Any]:
        try:
            # Every export is decoded once here: orjson is ~3x faster than json.
            data = orjson.loads(response.content)
        except ValueError:  # orjson.JSONDecodeError is a ValueError too
            data = None
            problem = "is not valid JSON"
        else:
            problem = "is not a JSON object"
        if not isinstance(data, dict):
            raise self._malformed(response, endpoint, f"{what} ({endpoint}) {problem}")
        return data

    def _malformed(self, response: httpx.Response, endpoint: str, message: str) -> ZuoraError:
        body = excerpt(self._scrub(response.content.decode("utf-8", "replace")))
        return self._err(
            ZuoraMalformedResponseError, f"{message}: {body!r}", endpoint, response.status_code, body_excerpt=body
        )

    # -- public API ----------------------------------------------------------------------------

    def page_url(self, number: int) -> str:
        """The URL of page ``number`` of GET /workflows at this client's page length."""
        return f"{self.base_url}/workflows?page={number}&page_length={self.settings.page_length}"

    def list_page(self, number: int, url: str | None = None, *, cancel: threading.Event | None = None) -> FetchedPage:
        """Page ``number`` of GET /workflows, from ``url`` (a checked ``next_page``) or by its number."""
        url = url or self.page_url(number)
        endpoint = f"GET {url_path(url)}"
        what = f"list page {number}"

        def decode(response: httpx.Response) -> FetchedPage:
            body = self._decode(response, endpoint, what)
            raw_items = body.get("data")
            if not isinstance(raw_items, list):
                problem = "has no `data` array" if raw_items is None else "has a `data` that is not an array"
                raise self._malformed(response, endpoint, f"{what} ({endpoint}) {problem}")
            items = [
                parse_list_item(raw, customer=self.customer, endpoint=endpoint, what=f" (item {n} of page {number})")
                for n, raw in enumerate(raw_items, start=1)
            ]
            pagination = body.get("pagination")
            raw_next = pagination.get("next_page") if isinstance(pagination, dict) else None
            raw_next = raw_next.strip() if isinstance(raw_next, str) and raw_next.strip() else None
            return FetchedPage(number=number, url=url, body=body, items=items, raw_next=raw_next)

        return self._request("list", endpoint, self._get(url), decode, malformed_retried=True, cancel=cancel)

    def page_walk(self) -> PageWalk:
        """The order and checks of a walk of this client's listing, from page 1."""
        return PageWalk(
            self.page_url(1), base_url=self.base_url, customer=self.customer, max_pages=self.settings.max_pages
        )

    def iter_workflow_pages(self, *, cancel: threading.Event | None = None) -> Iterator[WorkflowPage]:
        """Walk GET /workflows page by page, following `next_page`, and refuse any walk that loops,
        repeats ids or exceeds `max_pages` (ZuoraPaginationError) or returns a malformed page."""
        walk = self.page_walk()
        while (step := walk.next_request()) is not None:
            number, url = step
            yield walk.accept(self.list_page(number, url, cancel=cancel))

    def get_workflow(self, workflow_id: int | str, *, cancel: threading.Event | None = None) -> WorkflowListItem:
        wid = workflow_id_int(workflow_id)
        endpoint = f"GET /workflows/{wid}"

        def decode(response: httpx.Response) -> WorkflowListItem:
            data = self._decode(response, endpoint, f"workflow {wid}")
            return parse_model(WorkflowListItem, data, workflow_id=wid, customer=self.customer, endpoint=endpoint)

        url = f"{self.base_url}/workflows/{wid}"
        return self._request("get", endpoint, self._get(url), decode, malformed_retried=True, cancel=cancel)

    def export_workflow(
        self, workflow_id: int | str, *, version: str | None = None, cancel: threading.Event | None = None
    ) -> WorkflowExport:
        """GET /workflows/{id}/export (the active version, or `version` such as "0.0.2"/"latest").
        A malformed export is raised at once: the fetch asks for it again in a later pass."""
        wid = workflow_id_int(workflow_id)
        params = {"version": version} if version else None
        endpoint = f"GET /workflows/{wid}/export" + (f"?version={quote(version, safe='')}" if version else "")

        def decode(response: httpx.Response) -> WorkflowExport:
            data = self._decode(response, endpoint, f"export of workflow {wid}")
            task_ids = export_task_ids(data, workflow_id=wid, customer=self.customer, endpoint=endpoint)
            return WorkflowExport(workflow_id=wid, content=response.content, data=data, task_ids=task_ids)

        url = f"{self.base_url}/workflows/{wid}/export"
        return self._request("export", endpoint, self._get(url, params), decode, cancel=cancel)
