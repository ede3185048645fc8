"""Pages of a page-number listing fetched ahead of the walk, so pages need not wait for each other.

Zuora's listing is page-number based (``?page=N&page_length=P``): page N+1 can be requested before
page N has answered. When the caller knows how long the last listing was, the walk requests the
pages it expects plus one more at once (the client's limiter admits as many as its cap allows), and
keeps a cap's worth ahead of itself once the listing proves longer than expected. Nothing is
requested beyond a page that ended the listing (short or empty, or without a ``next_page``), nor
beyond ``max_pages``.

Fetching ahead decides only *when* a page is requested, never what the walk trusts: the walk still
consumes pages in order, checks each page's ``next_page`` before taking the next page, and takes a
page fetched ahead only when that ``next_page`` names exactly page N+1 of the same origin and page
length. Anything else (a cursor, another page length, a loop) makes the walk drop what was fetched
ahead and follow ``next_page`` one page at a time, with the guards of the sequential walk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .models import WorkflowListItem
from .pagination import normalise_page_url


@dataclass(frozen=True)
class FetchedPage:
    """One list page as fetched, before the walk's checks (which run in page order)."""

    number: int
    url: str
    body: dict[str, Any]
    items: list[WorkflowListItem]
    raw_next: str | None  # the stripped `next_page` string, None when missing/null/blank

    @property
    def continues(self) -> bool:
        """Whether the listing says there is a page after this one."""
        return bool(self.items) and self.raw_next is not None


class PagesAhead:
    """Fetches pages 1, 2, ... of a page-number listing on a pool of ``workers`` threads."""

    def __init__(
        self,
        fetch: Callable[[int, str], FetchedPage],
        page_url: Callable[[int], str],
        *,
        expected_pages: int,
        workers: int,
        max_pages: int,
        name: str,
    ) -> None:
        self._fetch = fetch
        self._page_url = page_url
        # The pages of the last listing, and one more: a listing that grew by a page costs no round.
        self._expected = max(1, expected_pages) + 1
        self._workers = workers
        self._max_pages = max_pages
        self._futures: dict[int, Future[FetchedPage]] = {}
        self._scheduled = 0
        self._last: int | None = None  # the first page known to end the listing
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def serves(self, number: int, url: str) -> bool:
        """Is ``url`` exactly page ``number`` of this listing (same origin, path, page length)?"""
        return normalise_page_url(url) == normalise_page_url(self._page_url(number))

    def take(self, number: int) -> FetchedPage:
        """Page ``number`` (the walk has checked pages 1..number-1); raises what fetching it raised."""
        self._schedule(walked=number - 1)
        with self._lock:
            future = self._futures.pop(number, None)
        if future is None:  # never scheduled (cannot happen in order; kept safe)
            future = self._pool.submit(self._run, number)
        return future.result()

    def _horizon(self, walked: int) -> int:
        # Within the expectation, everything at once; past it, a cap's worth ahead of the walk.
        horizon = self._expected if walked < self._expected else walked + self._workers
        with self._lock:
            if self._last is not None:
                horizon = min(horizon, self._last)
        return min(horizon, self._max_pages)

    def _schedule(self, walked: int) -> None:
        for number in range(self._scheduled + 1, self._horizon(walked) + 1):
            future = self._pool.submit(self._run, number)
            with self._lock:
                self._futures[number] = future
            self._scheduled = number

    def _run(self, number: int) -> FetchedPage:
        try:
            page = self._fetch(number, self._page_url(number))
        except BaseException:
            self._ends_at(number)  # nothing is worth requesting past a page that failed
            raise
        if not page.continues:
            self._ends_at(number)
        return page

    def _ends_at(self, number: int) -> None:
        with self._lock:
            self._last = number if self._last is None else min(self._last, number)
            later = [future for n, future in self._futures.items() if n > number]
        for future in later:
            future.cancel()  # only those not started yet

    def close(self) -> None:
        """Cancel what has not started and wait for the requests in flight (they hold the pool)."""
        with self._lock:
            pending, self._futures = list(self._futures.values()), {}
        for future in pending:
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
