"""ZuoraClient: OAuth, retries, bounded concurrency, page walks and exports over one httpx pool.

The caller (Dagster assets, the CLI) is synchronous, so this is a sync httpx.Client (thread-safe,
keep-alive pool) plus a thread pool for concurrent exports. Every HTTP request (token, list, get,
export) takes a slot of one ConcurrencyLimiter, so the client never has more than
`settings.concurrency` requests in flight, whatever mix of listing and exporting is running.
"""

from __future__ import annotations

import hashlib
import json
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import TracebackType
from typing import Any, NoReturn
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
from .pages_ahead import FetchedPage, PagesAhead
from .pagination import PageWalkGuard
from .results import ExportOutcome, WorkflowExport, WorkflowPage
from .retry import RETRYABLE_STATUS, Backoff, RetryBudget, Sleep, parse_ratelimit_reset, parse_retry_after
from .settings import ClientSettings
from .urls import check_base_url, resolve_next_page, url_path

USER_AGENT = "zuora-pipeline/0.1 (+httpx)"
# Exports submitted ahead of the consumer, as a multiple of the concurrency (see export_workflows).
EXPORT_WINDOW = 2
REDACTED = "[REDACTED]"

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
        sleep: Sleep = time.sleep,
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

    def _exchange(self, kind: str, request: httpx.Request) -> tuple[httpx.Response | Exception, int]:
        """Send under a limiter slot, reading the whole body inside it. Returns the response or the
        transport exception (for the retry loop to judge) and the limiter epoch of the request."""
        with self._limiter.slot() as epoch:
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

    def _wait_or_give_up(self, failures: int, wait: float, reason: str, give_up: Callable[[], ZuoraError]) -> None:
        """Sleep before the next attempt, or raise if attempts or the client's retry budget ran out."""
        if failures >= self.settings.max_attempts or not self._budget.take(wait):
            raise give_up()
        self.metrics.record_retry(reason, wait)
        self._sleep(wait)

    def _retry_wait(self, response: httpx.Response, failures: int, epoch: int) -> tuple[float, float | None]:
        if response.status_code == 429:
            self._limiter.throttled(epoch)
            server_wait = parse_retry_after(response.headers.get("Retry-After"))
            if server_wait is None:
                server_wait = parse_ratelimit_reset(response.headers.get("RateLimit-Reset"))
            return self._backoff.throttled(failures, server_wait), server_wait
        return self._backoff.exponential(failures), None

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

    def _fetch_token(self) -> TokenResponse:
        """POST /oauth/token with the form fields (no Authorization header)."""
        endpoint = "POST /oauth/token"
        failures = 0
        while True:
            request = self._http.build_request(
                "POST",
                f"{self.base_url}/oauth/token",
                data={
                    "client_id": self.client_id,
                    "client_secret": self._secret.reveal(),
                    "grant_type": "client_credentials",
                },
            )
            outcome, epoch = self._exchange("token", request)
            if isinstance(outcome, httpx.Response) and outcome.is_success:
                try:
                    data = json.loads(outcome.content)
                except ValueError:
                    data = None
                if not isinstance(data, dict) or not data.get("access_token"):
                    # No excerpt: the body may hold a token.
                    raise self._err(
                        ZuoraMalformedResponseError,
                        f"{endpoint} returned HTTP {outcome.status_code} without an access_token",
                        endpoint,
                        outcome.status_code,
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
                        outcome.status_code,
                    ) from None
                self.metrics.record_token()
                self._limiter.succeeded()
                return token
            if isinstance(outcome, httpx.Response) and outcome.status_code not in RETRYABLE_STATUS:
                # Any other answer means the credentials (or the host) are wrong; retrying cannot help.
                raise self._auth_error(
                    f"HTTP {outcome.status_code} from {endpoint}: {self._body_message(outcome)}", outcome.status_code
                )
            failures += 1
            if isinstance(outcome, Exception):
                wait, server_wait, reason = self._backoff.exponential(failures), None, _transport_reason(outcome)
            else:
                (wait, server_wait), reason = self._retry_wait(outcome, failures, epoch), str(outcome.status_code)
            self._wait_or_give_up(
                failures, wait, reason, partial(self._transient_error, outcome, endpoint, failures, server_wait, None)
            )

    def check_credentials(self) -> None:
        """One token request, past the shared token cache, raising ZuoraAuthenticationError if Zuora
        refuses the credentials: what `customers add` does before it saves a customer."""
        self._fetch_token()

    def _token(self, stale: CachedToken | None = None) -> CachedToken:
        token = self._tokens.get(
            self._token_key, self._fetch_token, margin=self.settings.token_refresh_margin_s, stale=stale
        )
        self._secret.saw_token(token.access_token)
        return token

    # -- authenticated calls -------------------------------------------------------------------

    def _call(self, kind: str, url: str, *, endpoint: str, params: dict[str, str] | None = None) -> httpx.Response:
        """GET with the bearer token: one refresh + replay on 401, retries on 429/5xx/transport errors."""
        failures = 0
        refreshed = False
        stale: CachedToken | None = None
        while True:
            token = self._token(stale)
            stale = None
            request = self._http.build_request(
                "GET", url, params=params, headers={"Authorization": f"Bearer {token.access_token}"}
            )
            outcome, epoch = self._exchange(kind, request)
            if isinstance(outcome, httpx.Response):
                status = outcome.status_code
                if outcome.is_success:
                    self._limiter.succeeded()
                    return outcome
                if status == 401:
                    if refreshed:
                        raise self._auth_error_for(endpoint, outcome, token)
                    # Zuora's advice: on 401 get a new token and retry once.
                    refreshed = True
                    stale = token
                    self.metrics.record_refresh()
                    continue
                if status not in RETRYABLE_STATUS:
                    self._raise_for_status(outcome, endpoint, token.access_token)
            failures += 1
            if isinstance(outcome, Exception):
                wait, server_wait, reason = self._backoff.exponential(failures), None, _transport_reason(outcome)
            else:
                (wait, server_wait), reason = self._retry_wait(outcome, failures, epoch), str(outcome.status_code)
            self._wait_or_give_up(
                failures,
                wait,
                reason,
                partial(self._transient_error, outcome, endpoint, failures, server_wait, token.access_token),
            )

    def _auth_error_for(self, endpoint: str, response: httpx.Response, token: CachedToken) -> ZuoraAuthenticationError:
        err = self._auth_error(
            f"{endpoint} still returned HTTP 401 after a token refresh: "
            f"{self._body_message(response, token.access_token)}",
            401,
        )
        err.endpoint = endpoint
        return err

    def _raise_for_status(self, response: httpx.Response, endpoint: str, token: str) -> NoReturn:
        status = response.status_code
        detail = self._body_message(response, token)
        if status == 404:
            raise self._err(ZuoraNotFoundError, f"{endpoint} returned HTTP 404 (not found): {detail}", endpoint, status)
        if 300 <= status < 400:
            where = self._scrub(response.headers.get("Location", "?"), token)
            raise self._err(
                ZuoraRequestError,
                f"{endpoint} redirected (HTTP {status}) to {excerpt(where, 120)}; redirects are not followed",
                endpoint,
                status,
            )
        if status >= 500:
            raise self._err(ZuoraServerError, f"{endpoint} returned HTTP {status}: {detail}", endpoint, status)
        hint = " (does the API user have the Workflow permission?)" if status == 403 else ""
        raise self._err(ZuoraRequestError, f"{endpoint} returned HTTP {status}{hint}: {detail}", endpoint, status)

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
            body = excerpt(self._scrub(response.content.decode("utf-8", "replace")))
            raise self._err(
                ZuoraMalformedResponseError,
                f"{what} ({endpoint}) {problem}: {body!r}",
                endpoint,
                response.status_code,
                body_excerpt=body,
            )
        return data

    def _page_shape(self, response: httpx.Response, body: dict[str, Any], endpoint: str, what: str) -> None:
        raw_items = body.get("data")
        if not isinstance(raw_items, list):
            problem = "has no `data` array" if raw_items is None else "has a `data` that is not an array"
            body_excerpt = excerpt(self._scrub(response.content.decode("utf-8", "replace")))
            raise self._err(
                ZuoraMalformedResponseError,
                f"{what} ({endpoint}) {problem}: {body_excerpt!r}",
                endpoint,
                response.status_code,
                body_excerpt=body_excerpt,
            )

    def _get_json(
        self,
        kind: str,
        url: str,
        endpoint: str,
        what: str,
        shape: Callable[[httpx.Response, dict[str, Any], str, str], None] | None = None,
    ) -> dict[str, Any]:
        """GET and decode, asking again (with the client's backoff and budget) while the body is
        malformed: a proxy's error page or a truncated body is usually gone on the next request.
        A malformed body that persists through the attempts is raised as it is."""
        failures = 0
        while True:
            response = self._call(kind, url, endpoint=endpoint)
            try:
                body = self._decode(response, endpoint, what)
                if shape is not None:
                    shape(response, body, endpoint, what)
                return body
            except ZuoraMalformedResponseError as exc:
                failures += 1
                wait = self._backoff.exponential(failures)
                self._wait_or_give_up(failures, wait, "malformed", partial(_persisted, exc, failures))

    # -- public API ----------------------------------------------------------------------------

    def page_url(self, number: int) -> str:
        """The URL of page ``number`` of GET /workflows at this client's page length."""
        return f"{self.base_url}/workflows?page={number}&page_length={self.settings.page_length}"

    def _fetch_page(self, number: int, url: str) -> FetchedPage:
        endpoint = f"GET {url_path(url)}"
        body = self._get_json("list", url, endpoint, f"list page {number}", self._page_shape)
        items = [
            parse_list_item(raw, customer=self.customer, endpoint=endpoint, what=f" (item {i + 1} of page {number})")
            for i, raw in enumerate(body["data"])
        ]
        pagination = body.get("pagination")
        raw_next = pagination.get("next_page") if isinstance(pagination, dict) else None
        raw_next = raw_next.strip() if isinstance(raw_next, str) and raw_next.strip() else None
        return FetchedPage(number=number, url=url, body=body, items=items, raw_next=raw_next)

    def iter_workflow_pages(self, *, expected_workflows: int | None = None) -> Iterator[WorkflowPage]:
        """Walk GET /workflows page by page, following `next_page`, and refuse any walk that loops,
        repeats ids or exceeds `max_pages` (ZuoraPaginationError) or returns a malformed page.

        With ``expected_workflows`` (the length of the last complete listing) the pages it implies
        are requested at once (see pages_ahead.py); pages are still checked and yielded in order,
        and a `next_page` that is not exactly the next page number turns the walk sequential."""
        guard = PageWalkGuard(customer=self.customer, max_pages=self.settings.max_pages)
        if expected_workflows is not None:
            # The token first, on this thread: pages requested together would otherwise each ask
            # for it, and bad credentials must cost Zuora one token request, not one per page.
            self._token()
        ahead = (
            None
            if expected_workflows is None
            else PagesAhead(
                self._fetch_page,
                self.page_url,
                expected_pages=math.ceil(expected_workflows / self.settings.page_length),
                workers=self.settings.concurrency,
                max_pages=self.settings.max_pages,
                name=f"zuora-pages-{self.customer}",
            )
        )
        url: str | None = self.page_url(1)
        number = 0
        try:
            while url is not None:
                number += 1
                guard.before_request(number, url)
                if ahead is not None and not ahead.serves(number, url):
                    # Not page-number pagination as we know it: follow next_page one by one.
                    ahead.close()
                    ahead = None
                fetched = ahead.take(number) if ahead is not None else self._fetch_page(number, url)
                guard.after_page(number, url, (item.id for item in fetched.items))
                # Stop on a missing/null/"" next_page, or on an empty page.
                next_url = (
                    resolve_next_page(fetched.raw_next, self.base_url, customer=self.customer, page=number)
                    if fetched.continues and fetched.raw_next is not None
                    else None
                )
                yield WorkflowPage(number=number, url=url, body=fetched.body, items=fetched.items, next_page=next_url)
                url = next_url
        finally:
            if ahead is not None:
                ahead.close()

    def get_workflow(self, workflow_id: int | str) -> WorkflowListItem:
        wid = workflow_id_int(workflow_id)
        endpoint = f"GET /workflows/{wid}"
        data = self._get_json("get", f"{self.base_url}/workflows/{wid}", endpoint, f"workflow {wid}")
        return parse_model(WorkflowListItem, data, workflow_id=wid, customer=self.customer, endpoint=endpoint)

    def export_workflow(self, workflow_id: int | str, *, version: str | None = None) -> WorkflowExport:
        """GET /workflows/{id}/export (the active version, or `version` such as "0.0.2"/"latest")."""
        wid = workflow_id_int(workflow_id)
        params = {"version": version} if version else None
        endpoint = f"GET /workflows/{wid}/export" + (f"?version={quote(version, safe='')}" if version else "")
        response = self._call("export", f"{self.base_url}/workflows/{wid}/export", endpoint=endpoint, params=params)
        data = self._decode(response, endpoint, f"export of workflow {wid}")
        task_ids = export_task_ids(data, workflow_id=wid, customer=self.customer, endpoint=endpoint)
        return WorkflowExport(workflow_id=wid, content=response.content, data=data, task_ids=task_ids)

    def export_workflows(self, workflow_ids: Iterable[int | str]) -> Iterator[ExportOutcome]:
        """Export many workflows, at most `settings.concurrency` at a time, yielding outcomes in
        completion order. `workflow_ids` is consumed lazily by a feeder thread (it may be a generator
        fed by a page walk still in progress). Per-workflow failures become `ExportOutcome.error`;
        ZuoraAuthenticationError (and bugs) stop everything and are raised."""
        cap = self.settings.concurrency
        results: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()
        # Bounds exports submitted but not yet taken by the consumer (queued, in flight, or
        # finished and waiting in `results`), so ids are pulled only as capacity frees up and a
        # slow consumer (the warehouse writer) holds at most EXPORT_WINDOW x cap downloaded
        # exports, never the whole sync. Beyond the cap in flight, the window keeps ids queued for
        # the workers: a worker that finishes starts its next export at once, instead of waiting
        # for the consumer to take an outcome and the feeder to submit (two more threads to wake
        # for the GIL on the path between one response and the next request).
        window = threading.Semaphore(EXPORT_WINDOW * cap)
        executor = ThreadPoolExecutor(max_workers=cap, thread_name_prefix=f"zuora-export-{self.customer}")

        def export_one(raw_id: int | str) -> None:
            try:
                wid = workflow_id_int(raw_id)
                try:
                    results.put(("outcome", ExportOutcome(wid, self.export_workflow(wid), None)))
                except ZuoraAuthenticationError as exc:
                    results.put(("fatal", exc))
                except ZuoraError as exc:
                    results.put(("outcome", ExportOutcome(wid, None, exc)))
            except BaseException as exc:
                results.put(("fatal", exc))

        def feed() -> None:
            submitted = 0
            try:
                for raw_id in workflow_ids:
                    while not window.acquire(timeout=0.05):
                        if stop.is_set():
                            return
                    if stop.is_set():
                        return
                    executor.submit(export_one, raw_id)
                    submitted += 1
                results.put(("done", submitted))
            except BaseException as exc:
                results.put(("fatal", exc))

        feeder = threading.Thread(target=feed, name=f"zuora-export-feeder-{self.customer}", daemon=True)
        feeder.start()
        received = 0
        total: int | None = None
        try:
            while total is None or received < total:
                kind, value = results.get()
                if kind == "outcome":
                    received += 1
                    window.release()
                    yield value
                elif kind == "done":
                    total = value
                else:
                    raise value
        finally:
            stop.set()
            executor.shutdown(wait=True, cancel_futures=True)
