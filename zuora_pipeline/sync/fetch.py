"""Step 1+2 of a sync: walk the listing and download the exports that changed, streaming.

Exports start while pages are still being listed. Given the length of the last complete listing,
the pages it implies are requested at once instead of one after another (a re-sync of an
unchanged tenant costs a few round trips, not one per page). Each finished export is staged in
batches as it arrives, by a writer thread so requests never wait for the warehouse (short
transactions: SQLite has one writer and must not be locked for the length of a download). What
the assets publish (the listing, the promoted exports, the sync record) commits in one transaction
at the end, so a failed walk (loop, malformed page, bad credentials) leaves the previous listing
and exports exactly as they were.

An export that failed in a way another request may fix (5xx, timeout or dropped connection after
the client's retries, a malformed body) is fetched again, in up to ``REFETCH_ROUNDS`` further
passes after a short pause, before it counts as an error: one sync through a few percent of faults
still leaves the customer complete. A 404 or an export missing a required field counts at once.

Before the listing may drive deletions, every stored workflow missing from it is confirmed gone
with ``GET /workflows/{id}``: page-number pagination skips an entry when a workflow is deleted
mid-walk, and a skipped entry must not turn into a soft delete.

One `Fetch` owns every thread of a fetch and the state they share. The fetch's own thread runs an
event loop that decides every request and keeps every count: ``settings.concurrency`` workers send
the requests it queues through the client (whose limiter holds the cap on requests in flight),
the staging writer writes the batches it hands over, and each finished request or write comes back
to the loop as an event on one queue. Workers and writer touch nothing but their own job.
"""

from __future__ import annotations

import enum
import itertools
import json
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from zuora_pipeline.logic.hashing import export_hash
from zuora_pipeline.logic.normalize import has_active_version, list_fingerprint
from zuora_pipeline.sync.errors import Interrupted
from zuora_pipeline.warehouse import raw
from zuora_pipeline.warehouse import workflows as workflow_table
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline.zuora import (
    FetchedPage,
    RequestCancelled,
    WorkflowExport,
    WorkflowPage,
    ZuoraAuthenticationError,
    ZuoraClient,
    ZuoraError,
    ZuoraListingChangedError,
    ZuoraMalformedResponseError,
    ZuoraNotFoundError,
    handling,
)
from zuora_pipeline.zuora.pagination import same_page

EXPORT_BATCH = 100
# Exports requested ahead of the loop, as a multiple of the concurrency: beyond the cap in flight,
# the window keeps exports queued for the workers, so a worker that finishes starts its next export
# at once instead of waiting for the loop to hear of the last one. It also bounds the downloaded
# exports held while the warehouse is slower than the download.
EXPORT_WINDOW = 2
# Further passes over the exports that failed transiently, each after REFETCH_PAUSE_S x its number
# (the client's own retries already waited out seconds-long blips; this outlasts a short burst).
REFETCH_ROUNDS = 2
REFETCH_PAUSE_S = 1.0
# How often the loop looks at the cancel event while no event arrives.
_TICK_S = 0.1


@dataclass
class FetchResult:
    pages: int = 0
    listed: int = 0
    without_active_version: int = 0
    exports_requested: int = 0
    exports_downloaded: int = 0
    # Of the downloaded: first exports of a workflow, and new exports replacing a stored one.
    exports_created: int = 0
    exports_updated: int = 0
    unchanged_skipped: int = 0
    errors: int = 0
    malformed_exports: int = 0
    # Exports that failed transiently and were downloaded on a further pass of this sync.
    exports_refetched: int = 0
    vanished_confirmed: int = 0
    page_numbers: list[int] = field(default_factory=list)
    distinct_ids: int = 0
    error_samples: list[str] = field(default_factory=list)
    api: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0

    @property
    def exportable(self) -> int:
        return self.listed - self.without_active_version

    @property
    def pagination_complete(self) -> bool:
        """Pages 1..N each stored once, and every listed entry a distinct workflow."""
        return self.page_numbers == list(range(1, len(self.page_numbers) + 1)) and (self.distinct_ids == self.listed)

    @property
    def coverage(self) -> float:
        """Share of exportable listed workflows whose export is current after this sync."""
        if self.exportable == 0:
            return 1.0
        return (self.exportable - self.errors) / self.exportable


@dataclass(frozen=True)
class Stored:
    """What the warehouse holds of the customer when the fetch starts."""

    fingerprints: dict[int, str]  # workflow id -> list fingerprint its stored export was taken at
    live: frozenset[int]  # stored workflows not deleted
    listing_length: int | None  # entries of the last complete listing; None before the first


class _Kind(enum.IntEnum):
    """What a worker does, ordered by priority: a page unlocks exports, and a vanished workflow
    that still exists fails the fetch, so neither waits behind the queued exports."""

    PAGE = 0
    CHECK = 1
    EXPORT = 2


@dataclass(frozen=True)
class _Job:
    kind: _Kind
    key: int = 0  # the page number, or the workflow id
    url: str = ""  # a page's URL
    ahead: bool = False  # a page requested ahead of the walk
    round: int = 0  # an export's pass: 0 the first, then the further passes


@dataclass(frozen=True)
class _Done:
    """A worker finished a job: its value, or what it raised."""

    job: _Job
    value: object = None
    error: BaseException | None = None


@dataclass(frozen=True)
class _Written:
    """The writer finished a batch, or failed it."""

    error: BaseException | None = None


class Fetch:
    """One fetch of one customer: every thread it starts, and the state they share as its fields.

    `run` (once) walks the listing, downloads what changed, hands the exports to ``write`` in
    batches, confirms vanished workflows gone, and returns the result; the pages to publish are in
    ``pages``. Errors on any thread are raised on the caller's thread, which then stops every
    thread: `run` returns or raises only when all are joined. A set ``cancel`` event stops the
    fetch within about a second (the requests in flight end first), raising `Interrupted`.
    """

    def __init__(
        self,
        client: ZuoraClient,
        stored: Stored,
        *,
        write: Callable[[list[raw.RawExport]], None],
        full_refresh: bool = False,
        batch_size: int = EXPORT_BATCH,
        cancel: threading.Event | None = None,
    ) -> None:
        self._client = client
        self._stored = stored
        self._write = write
        self._full_refresh = full_refresh
        self._batch_size = batch_size
        self._cancel = cancel
        cap = client.settings.concurrency
        self._cap = cap

        # What the fetch produces.
        self.result = FetchResult()
        self.pages: list[raw.RawPage] = []
        self.failed: dict[int, ZuoraError] = {}  # workflow id -> why its export is missing, in order
        self._fingerprints: dict[int, str] = {}
        self._listed: set[int] = set()

        # The walk. With a stored listing, the pages it implies (and one more: a listing that grew
        # by a page costs no round) are requested at once, and past them a cap's worth ahead of
        # the walk; nothing past a page that ended the listing or failed.
        self._walk = client.page_walk()
        self._want: tuple[int, str] | None = None  # the page the walk takes next
        self._ahead = stored.listing_length is not None
        self._expected_pages = max(1, math.ceil((stored.listing_length or 0) / client.settings.page_length)) + 1
        self._requested_ahead = 0  # the highest page number requested ahead
        # The last page worth requesting ahead, shared with the workers (so locked): lowered when
        # a page ends the listing or the walk stops taking pages requested ahead, and read by a
        # worker before it sends one (a page queued past it is dropped unsent).
        self._ahead_limit = client.settings.max_pages
        self._ahead_limit_lock = threading.Lock()
        self._arrived: dict[int, _Done] = {}  # pages finished, not yet taken by the walk
        self._following = False  # a page requested by following next_page is in flight
        self._walked = False

        # The exports: waiting to be requested, requested and not yet heard of, failed transiently
        # in this pass; the pass number and when the next pass starts.
        self._to_export: deque[tuple[int, int]] = deque()  # (workflow id, pass)
        self._exports_in_flight = 0
        self._again: list[int] = []
        self._round = 0
        self._next_round_at: float | None = None
        self._checks_in_flight = 0

        # Staging: the batch being filled, full batches waiting, and whether the writer is busy.
        # While a batch waits for the writer no export is requested: a warehouse slower than the
        # download stalls the download instead of piling exports up in memory.
        self._batch: list[raw.RawExport] = []
        self._full: deque[list[raw.RawExport]] = deque()
        self._writing = False

        # The threads and what the fetch's thread exchanges with them.
        self._events: queue.Queue[_Done | _Written] = queue.Queue()
        self._jobs: queue.PriorityQueue[tuple[int, int, _Job | None]] = queue.PriorityQueue()
        self._order = itertools.count()  # first in, first out within a priority
        self._batches: queue.Queue[list[raw.RawExport] | None] = queue.Queue()
        self._halt = threading.Event()  # every thread stops; the client's retry waits end
        self._threads = [
            threading.Thread(target=self._work, name=f"fetch-{client.customer}-worker-{n}", daemon=True)
            for n in range(cap)
        ]
        self._threads.append(threading.Thread(target=self._stage, name=f"fetch-{client.customer}-writer", daemon=True))

    # -- the fetch's thread ----------------------------------------------------------------------

    def run(self) -> FetchResult:
        try:
            # The token first, on this thread: pages requested together would otherwise each ask
            # for it, and bad credentials must cost Zuora one token request, not one per page.
            try:
                self._client.authenticate(cancel=self._cancel)
            except RequestCancelled:
                raise self._interrupted() from None
            self._want = self._walk.next_request()
            self._take_pages()
            self._keep_going()
            # The threads start once the first requests are queued: each takes one at once, so
            # those requests are on their way while the others start.
            for thread in self._threads:
                thread.start()
            while not self._finished():
                event = self._next_event()
                if isinstance(event, _Done):
                    self._done(event)
                elif isinstance(event, _Written):
                    if event.error is not None:
                        raise event.error
                    self._writing = False
                self._keep_going()
            self._check_cancel()
        finally:
            self._stop()
        result = self.result
        result.pages = len(self.pages)
        result.page_numbers = [page.page_number for page in self.pages]
        result.distinct_ids = len(self._listed)
        result.error_samples = [str(error) for error in list(self.failed.values())[:5]]
        result.api = self._client.metrics.as_dict()
        return result

    def _check_cancel(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise self._interrupted()

    def _interrupted(self) -> Interrupted:
        customer = self._client.customer
        return Interrupted(f"customer {customer!r}: the fetch was stopped on request; nothing was published")

    def _next_event(self) -> _Done | _Written | None:
        """The next event, or None after a tick (to look at the cancel event and the pass timer)."""
        self._check_cancel()
        timeout = _TICK_S
        if self._next_round_at is not None:
            timeout = max(0.0, min(timeout, self._next_round_at - time.monotonic()))
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def _finished(self) -> bool:
        return (
            self._walked
            and self._exports_done()
            and self._checks_in_flight == 0
            and not (self._batch or self._full or self._writing)
        )

    def _exports_done(self) -> bool:
        """The walk is over, and so is every pass over its exports."""
        return (
            self._walked
            and not self._to_export
            and self._exports_in_flight == 0
            and not self._again
            and self._next_round_at is None
        )

    def _submit(self, job: _Job) -> None:
        self._jobs.put((job.kind, next(self._order), job))

    def _keep_going(self) -> None:
        """Queue what the state allows: pages ahead, the next pass, batches for the writer, and
        exports within the window unless a full batch waits for the writer."""
        self._request_ahead()
        self._next_pass()
        if self._exports_done() and self._batch:
            self._full.append(self._batch)
            self._batch = []
        if self._full and not self._writing:
            self._batches.put(self._full.popleft())
            self._writing = True
        window = EXPORT_WINDOW * self._cap
        while self._to_export and self._exports_in_flight < window and not self._full:
            wid, round_number = self._to_export.popleft()
            self._submit(_Job(_Kind.EXPORT, wid, round=round_number))
            self._exports_in_flight += 1

    def _next_pass(self) -> None:
        """Once a pass is over, the exports that failed transiently go again after a pause."""
        if not (self._walked and not self._to_export and self._exports_in_flight == 0 and self._again):
            return
        if self._next_round_at is None:
            self._next_round_at = time.monotonic() + REFETCH_PAUSE_S * (self._round + 1)
        elif time.monotonic() >= self._next_round_at:
            self._next_round_at = None
            self._round += 1
            self._to_export.extend((wid, self._round) for wid in self._again)
            self._again = []

    def _done(self, done: _Done) -> None:
        kind = done.job.kind
        if kind is _Kind.PAGE:
            self._page_arrived(done)
        elif kind is _Kind.EXPORT:
            self._exports_in_flight -= 1
            self._export_arrived(done)
        else:
            self._checks_in_flight -= 1
            self._check_arrived(done)

    # -- the walk --------------------------------------------------------------------------------

    def _request_ahead(self) -> None:
        if not self._ahead or self._want is None:
            return
        walked = self._walk.accepted
        horizon = self._expected_pages if walked < self._expected_pages else walked + self._cap
        horizon = min(horizon, self._worth_ahead())
        while self._requested_ahead < horizon:
            self._requested_ahead += 1
            number = self._requested_ahead
            self._submit(_Job(_Kind.PAGE, number, self._client.page_url(number), ahead=True))

    def _worth_ahead(self) -> int:
        with self._ahead_limit_lock:
            return self._ahead_limit

    def _limit_ahead(self, last: int) -> None:
        with self._ahead_limit_lock:
            self._ahead_limit = min(self._ahead_limit, last)

    def _page_arrived(self, done: _Done) -> None:
        job = done.job
        if job.ahead:
            if not self._ahead or self._walked:
                return  # past the end, or the walk follows next_page now: dropped
            page = done.value
            if done.error is not None or (isinstance(page, FetchedPage) and not page.continues):
                # Nothing is worth requesting past a page that ended the listing or failed.
                self._limit_ahead(job.key)
        else:
            self._following = False
        self._arrived[job.key] = done
        self._take_pages()

    def _take_pages(self) -> None:
        """Take the pages the walk can take, in order; request the next one by following next_page
        once the listing is not page-number pagination as we know it. The next page is requested
        before the pages taken are read for exports: it need not wait for that."""
        taken: list[WorkflowPage] = []
        while self._want is not None:
            number, url = self._want
            if self._ahead and not same_page(url, self._client.page_url(number)):
                # A cursor, another page length, a loop: follow next_page one page at a time.
                self._ahead = False
                self._limit_ahead(0)
                self._arrived.clear()
            if not self._ahead and number not in self._arrived:
                if not self._following:
                    self._submit(_Job(_Kind.PAGE, number, url))
                    self._following = True
                break
            done = self._arrived.pop(number, None)
            if done is None:
                break  # requested ahead, not here yet
            if done.error is not None:
                raise done.error
            assert isinstance(done.value, FetchedPage)
            taken.append(self._walk.accept(done.value))
            self._want = self._walk.next_request()
        for page in taken:
            self._read(page)
        if self._want is None and not self._walked:
            self._walk_over()

    def _read(self, page: WorkflowPage) -> None:
        """Keep a page for publishing, count its entries, queue the exports that changed."""
        self.pages.append(
            raw.RawPage(
                page_number=page.number,
                url=page.url,
                body=json.dumps(page.body, ensure_ascii=False, separators=(",", ":")),
                item_count=len(page.items),
            )
        )
        result = self.result
        for item in page.items:
            result.listed += 1
            self._listed.add(item.id)
            if not has_active_version(item):
                # Its plain export would 404: there is nothing to download.
                result.without_active_version += 1
                continue
            fingerprint = list_fingerprint(item)
            self._fingerprints[item.id] = fingerprint
            if not self._full_refresh and self._stored.fingerprints.get(item.id) == fingerprint:
                result.unchanged_skipped += 1
                continue
            result.exports_requested += 1
            self._to_export.append((item.id, 0))

    def _walk_over(self) -> None:
        """The listing is complete: check that each stored workflow missing from it is gone."""
        self._walked = True
        self._limit_ahead(0)
        self._arrived.clear()
        for zuora_id in sorted(self._stored.live - self._listed):
            self._submit(_Job(_Kind.CHECK, zuora_id))
            self._checks_in_flight += 1

    def _check_arrived(self, done: _Done) -> None:
        """Raise ZuoraListingChangedError if a stored workflow missing from the listing still
        exists: a deletion the listing cannot prove is not made."""
        if isinstance(done.error, ZuoraNotFoundError):
            self.result.vanished_confirmed += 1
            return
        if done.error is not None:
            raise done.error
        customer = self._client.customer
        raise ZuoraListingChangedError(
            f"customer {customer!r}: workflow {done.job.key} exists but was missing from "
            "the listing (workflows changed while the pages were walked); the listing is "
            "not trusted and nothing was deleted. The step retry lists again.",
            customer=customer,
            endpoint="GET /workflows",
        )

    # -- the exports -----------------------------------------------------------------------------

    def _export_arrived(self, done: _Done) -> None:
        """Stage a downloaded export, count a failed one, or keep it for the next pass."""
        wid, round_number = done.job.key, done.job.round
        error = done.error
        if error is not None:
            if isinstance(error, ZuoraAuthenticationError) or not isinstance(error, ZuoraError):
                raise error
            if round_number < REFETCH_ROUNDS and handling(error).fetch_again:
                self._again.append(wid)
                return
            # The last good export stays; the workflow is retried on the next sync
            # because its stored fingerprint still differs from the listing.
            result = self.result
            result.errors += 1
            if isinstance(error, ZuoraMalformedResponseError):
                result.malformed_exports += 1
            self.failed[wid] = error
            return
        export = done.value
        assert isinstance(export, WorkflowExport)
        self._batch.append(
            raw.RawExport(
                zuora_id=wid,
                content=export.content.decode("utf-8"),
                export_hash=export_hash(export.data),
                list_fingerprint=self._fingerprints[wid],
                # Distinct ids: the tasks table keeps one row per task id.
                task_count=len(set(export.task_ids)),
            )
        )
        if len(self._batch) >= self._batch_size:
            self._full.append(self._batch)
            self._batch = []
        result = self.result
        result.exports_downloaded += 1
        if round_number > 0:
            result.exports_refetched += 1
        if wid in self._stored.fingerprints:
            result.exports_updated += 1
        else:
            result.exports_created += 1

    # -- the other threads -----------------------------------------------------------------------

    def _work(self) -> None:
        """A worker: send the queued requests until the fetch stops."""
        client, halt = self._client, self._halt
        while True:
            _, _, job = self._jobs.get()
            if job is None or halt.is_set():
                return
            if job.ahead and job.key > self._worth_ahead():
                continue
            try:
                value: object
                if job.kind is _Kind.PAGE:
                    value = client.list_page(job.key, job.url, cancel=halt)
                elif job.kind is _Kind.EXPORT:
                    value = client.export_workflow(job.key, cancel=halt)
                else:
                    value = client.get_workflow(job.key, cancel=halt)
            except BaseException as exc:  # the loop judges it, and raises what stops the fetch
                self._events.put(_Done(job, error=exc))
            else:
                self._events.put(_Done(job, value))

    def _stage(self) -> None:
        """The staging writer: write the batches the loop hands over, one at a time."""
        while (batch := self._batches.get()) is not None and not self._halt.is_set():
            try:
                self._write(batch)
            except BaseException as exc:
                self._events.put(_Written(exc))
                return
            self._events.put(_Written())

    def _stop(self) -> None:
        """Stop every thread and wait for it: what is queued is dropped, the requests in flight
        end (their retry waits at once), a batch being written is finished."""
        self._halt.set()
        for _ in range(self._cap):
            self._jobs.put((-1, next(self._order), None))
        self._batches.put(None)
        for thread in self._threads:
            try:
                thread.join()
            except RuntimeError:
                # Not started: the fetch failed before its threads started (or Ctrl-C cut a
                # start short: that thread finds the fetch halted and ends at once by itself).
                pass


def _stored_state(conn: sa.Connection, customer_id: int) -> Stored:
    stored_pages, stored_items = raw.page_stats(conn, customer_id)
    return Stored(
        fingerprints=raw.export_fingerprints(conn, customer_id),
        live=frozenset(zid for zid, _hash, deleted in workflow_table.stored(conn, customer_id) if not deleted),
        listing_length=stored_items if stored_pages else None,
    )


def fetch_workflow_definitions(
    engine: sa.Engine,
    customer: Customer,
    client: ZuoraClient,
    *,
    run_id: str,
    full_refresh: bool = False,
    batch_size: int = EXPORT_BATCH,
    on_commit: Callable[[sa.Connection, FetchResult], None] | None = None,
    cancel: threading.Event | None = None,
) -> FetchResult:
    """The caller holds the customer's sync lock. No write transaction is held across network
    I/O: exports are staged in short transactions, and everything the fetch publishes (pages,
    exports, and what ``on_commit`` writes with them: the sync record) commits together at the end.
    A set ``cancel`` stops the fetch (`Interrupted`) before anything is published."""
    started = time.monotonic()
    now = datetime.now(UTC)
    with engine.connect() as conn:
        stored = _stored_state(conn, customer.id)
    with write_transaction(engine) as conn:
        raw.clear_staging(conn, customer.id)

    def write(exports: list[raw.RawExport]) -> None:
        with write_transaction(engine) as conn:
            raw.stage_exports(conn, customer.id, exports, run_id=run_id, at=now)

    fetch = Fetch(client, stored, write=write, full_refresh=full_refresh, batch_size=batch_size, cancel=cancel)
    result = fetch.run()
    with write_transaction(engine) as conn:
        raw.clear_pages(conn, customer.id)
        raw.insert_pages(conn, customer.id, fetch.pages, run_id=run_id, at=now)
        raw.promote_staged(conn, customer.id, run_id=run_id)
        result.duration_s = time.monotonic() - started
        if on_commit is not None:
            on_commit(conn, result)
    return result
