"""Guards that make a page walk trustworthy: no next_page loop, no repeated ids, a page cap.

A listing drives soft deletes downstream (a workflow missing from a *complete* listing is marked
deleted), so a walk that loops, repeats or is cut short must fail loudly instead of yielding a
plausible but wrong set of ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

import httpx

from .errors import ZuoraListingChangedError, ZuoraPaginationError
from .urls import url_path


def normalise_page_url(url: str) -> str:
    """Same page, same key: lowercase origin, sorted query parameters, no fragment."""
    u = httpx.URL(url)
    query = urlencode(sorted(parse_qsl(u.query.decode("ascii", "replace"), keep_blank_values=True)))
    port = f":{u.port}" if u.port else ""
    return f"{u.scheme}://{u.host}{port}{u.path}?{query}"


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
