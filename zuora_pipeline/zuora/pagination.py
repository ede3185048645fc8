"""The order and the guards of a page walk: no next_page loop, no repeated ids, a page cap.

A listing drives soft deletes downstream (a workflow missing from a *complete* listing is marked
deleted), so a walk that loops, repeats or is cut short must fail loudly instead of yielding a
plausible but wrong set of ids.

`PageWalk` holds one walk's order and checks, whoever requests its pages: the client's sequential
walk, or a fetch that requests pages ahead of the walk. Requesting a page early decides only *when*
it is requested, never what the walk trusts: pages are still taken in order, page N+1 only once
page N's ``next_page`` names it, each checked as in a sequential walk.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

import httpx

from .errors import ZuoraListingChangedError, ZuoraPaginationError
from .results import FetchedPage, WorkflowPage
from .urls import resolve_next_page, url_path


def normalise_page_url(url: str) -> str:
    """Same page, same key: lowercase origin, sorted query parameters, no fragment."""
    u = httpx.URL(url)
    query = urlencode(sorted(parse_qsl(u.query.decode("ascii", "replace"), keep_blank_values=True)))
    port = f":{u.port}" if u.port else ""
    return f"{u.scheme}://{u.host}{port}{u.path}?{query}"


def same_page(url: str, other: str) -> bool:
    """Whether two URLs name the same page: same origin and path, same query in any order."""
    return normalise_page_url(url) == normalise_page_url(other)


class PageWalkGuard:
    def __init__(self, *, customer: str | None, max_pages: int) -> None:
        self.customer = customer
        self.max_pages = max_pages
        self._urls: dict[str, int] = {}  # normalised URL -> page number that requested it
        self._ids: dict[int, int] = {}  # workflow id -> page number it was listed on

    @property
    def ids(self) -> set[int]:
        return set(self._ids)

    def _error(
        self, message: str, url: str, cls: type[ZuoraPaginationError] = ZuoraPaginationError
    ) -> ZuoraPaginationError:
        return cls(f"customer {self.customer!r}: {message}", customer=self.customer, endpoint=f"GET {url_path(url)}")

    def before_request(self, number: int, url: str) -> None:
        if number > self.max_pages:
            raise self._error(
                f"listing did not end within {self.max_pages} pages (next would be page {number}, "
                f"{url_path(url)}); refusing to trust it",
                url,
            )
        key = normalise_page_url(url)
        if key in self._urls:
            raise self._error(
                f"pagination loop: page {number} would request {url_path(url)} again "
                f"(already requested as page {self._urls[key]})",
                url,
            )
        self._urls[key] = number

    def after_page(self, number: int, url: str, ids: Iterable[int]) -> None:
        page_ids = list(ids)
        if len(set(page_ids)) != len(page_ids):
            dupes = sorted({i for i in page_ids if page_ids.count(i) > 1})
            raise self._error(f"page {number} ({url_path(url)}) lists ids {dupes[:10]} more than once", url)
        seen = [i for i in page_ids if i in self._ids]
        if page_ids and len(seen) == len(page_ids):
            raise self._error(
                f"pagination loop: page {number} ({url_path(url)}) repeats only ids already listed "
                f"on page {self._ids[seen[0]]}",
                url,
            )
        if seen:
            # Page-number pagination shifts entries when workflows are added mid-walk: some ids
            # of the previous page come round again. Walking again later gives a clean listing.
            raise self._error(
                f"page {number} ({url_path(url)}) repeats {len(seen)} id(s) already listed, e.g. "
                f"{seen[0]} on page {self._ids[seen[0]]} (workflows changed while the pages were "
                "walked); the listing cannot be trusted",
                url,
                ZuoraListingChangedError,
            )
        for i in page_ids:
            self._ids[i] = number


class PageWalk:
    """One walk of the listing: which page comes next, and the checks each page passes in order.

    `next_request` names page N+1 once page N is accepted (the first page at the start), checked
    against loops and the page cap before it may be requested, or taken when it was requested
    ahead; `accept` checks a page's ids and resolves its ``next_page``. The walk ends after a page
    without items or without a ``next_page``.
    """

    def __init__(self, first_url: str, *, base_url: str, customer: str | None, max_pages: int) -> None:
        self._guard = PageWalkGuard(customer=customer, max_pages=max_pages)
        self._base_url = base_url
        self._customer = customer
        self._next: tuple[int, str] | None = (1, first_url)
        self._checked = False
        self.accepted = 0  # pages taken so far

    def next_request(self) -> tuple[int, str] | None:
        """(number, URL) of the page the walk takes next, None once the walk is over."""
        if self._next is not None and not self._checked:
            self._guard.before_request(*self._next)
            self._checked = True
        return self._next

    def accept(self, page: FetchedPage) -> WorkflowPage:
        """Take the page `next_request` named (fetched from that URL or one naming the same page)."""
        step = self.next_request()
        if step is None or step[0] != page.number:
            raise ValueError(f"page {page.number} is not the page this walk takes next ({step})")
        number, url = step
        self._guard.after_page(number, url, (item.id for item in page.items))
        # Stop on a missing/null/"" next_page, or on an empty page.
        next_url = (
            resolve_next_page(page.raw_next, self._base_url, customer=self._customer, page=number)
            if page.continues and page.raw_next is not None
            else None
        )
        self._next = None if next_url is None else (number + 1, next_url)
        self._checked = False
        self.accepted = number
        return WorkflowPage(number=number, url=url, body=page.body, items=page.items, next_page=next_url)
