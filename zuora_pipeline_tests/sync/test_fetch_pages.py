"""Fetches that request pages ahead of the walk (a stored listing's length known): the same
guarantees as the sequential walk (loops, repeated ids, a foreign origin, a changed listing, the
page cap), a complete listing whatever the listing's length since the last sync, and a fallback to
following ``next_page`` one by one when it is not page-number pagination."""

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from zuora_pipeline.zuora import (
    ClientSettings,
    ZuoraAuthenticationError,
    ZuoraListingChangedError,
    ZuoraPaginationError,
)
from zuora_pipeline_tests.zuora.fakes import BASE, FakeZuora, list_item, make_client
from zuora_pipeline_tests.zuora.test_client_pagination import page, pages_fault

from .fetching import fetch_threads, listed_ids, new_fetch


def walk(fake: FakeZuora, expected: int, **settings: Any) -> list[int]:
    with make_client(fake, settings=ClientSettings(**settings)) as client:
        fetch, _ = new_fetch(client, expected=expected)
        try:
            fetch.run()
        finally:
            assert fetch_threads("acme") == []
    return listed_ids(fetch)


def list_requests(fake: FakeZuora) -> list[httpx.URL]:
    return [r.url for r in fake.requests if r.url.path == "/workflows"]


def requests_of_page(fake: FakeZuora, number: int) -> int:
    return sum(1 for url in list_requests(fake) if url.params.get("page") == str(number))


def numbered(ids: list[int], next_number: int | None, length: int = 50) -> Callable[[], httpx.Response]:
    """A page whose next_page names page ``next_number`` (None: the last page)."""
    nxt = f"{BASE}/workflows?page={next_number}&page_length={length}" if next_number else None
    return page(ids, nxt)


def test_pages_are_in_flight_together() -> None:
    fake = FakeZuora(workflows=200)
    # Three list requests must be in flight at the same moment, or the barrier breaks (a
    # sequential walk never has two).
    barrier = threading.Barrier(3, timeout=10)

    def hold(request: httpx.Request) -> None:
        if request.url.path == "/workflows" and request.url.params.get("page") in ("1", "2", "3"):
            barrier.wait()

    fake.on_request = hold
    assert walk(fake, expected=200, concurrency=8) == list(range(1, 201))
    assert fake.max_in_flight >= 3


@pytest.mark.parametrize("expected", [0, 40, 120, 199, 200, 201, 500, 5_000])
def test_listing_that_grew_or_shrank_is_complete(expected: int) -> None:
    fake = FakeZuora(workflows=200)
    assert walk(fake, expected=expected, page_length=10, concurrency=4) == list(range(1, 201))
    # Every page of the listing exactly once; beyond its end at most what was fetched ahead.
    for number in range(1, 21):
        assert requests_of_page(fake, number) == 1
    assert len(list_requests(fake)) <= max(expected // 10 + 1, 20 + 4) + 1


def test_nothing_is_requested_past_the_page_that_ended_the_listing() -> None:
    fake = FakeZuora(workflows=25)
    assert walk(fake, expected=25, page_length=10) == list(range(1, 26))
    # Pages 1-3 once each, and at most the one page fetched ahead of the expectation.
    numbers = sorted(int(u.params["page"]) for u in list_requests(fake))
    assert numbers in ([1, 2, 3], [1, 2, 3, 4])


def test_pages_queued_past_the_end_are_never_requested() -> None:
    fake = FakeZuora(workflows=200)
    fake.on_request = lambda r: time.sleep(0.005) if r.url.path == "/workflows" else None
    assert walk(fake, expected=5_000, page_length=10, concurrency=4) == list(range(1, 201))
    # The stored listing implied 501 pages, all queued at once; past page 20 only the pages
    # already in flight when the end was seen were sent.
    assert len(list_requests(fake)) <= 20 + 2 * 4


def test_next_page_loop_detected_before_requesting_again() -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: numbered([1], 2), 2: page([2], f"{BASE}/workflows?page_length=50&page=1")}))
    with pytest.raises(ZuoraPaginationError) as info:
        walk(fake, expected=100)
    msg = str(info.value)
    assert "'acme'" in msg and "loop" in msg and "page 3" in msg and "/workflows?page_length=50&page=1" in msg
    assert requests_of_page(fake, 1) == 1


def test_next_page_naming_its_own_page_is_a_loop() -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: numbered([1], 2), 2: numbered([2], 2)}))
    with pytest.raises(
        ZuoraPaginationError,
        match=r"loop: page 3 would request /workflows\?page=2&page_length=50 again \(already requested as page 2\)",
    ):
        walk(fake, expected=150)
    assert requests_of_page(fake, 2) == 1


def test_page_repeating_only_seen_ids_is_a_loop() -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: numbered([1, 2], 2), 2: numbered([1, 2], 3)}))
    with pytest.raises(ZuoraPaginationError, match="loop: page 2 .* repeats only ids already listed on page 1"):
        walk(fake, expected=150)


def test_ids_shifting_across_pages_mean_the_listing_changed() -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: numbered([1, 2], 2), 2: numbered([2, 3], 3), 3: numbered([4], None)}))
    with pytest.raises(ZuoraListingChangedError, match="repeats 1 id.*changed while the pages were walked"):
        walk(fake, expected=150)


def test_duplicate_ids_within_a_page() -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: numbered([1], 2), 2: numbered([5, 5], None)}))
    with pytest.raises(ZuoraPaginationError, match="page 2 .* more than once"):
        walk(fake, expected=100)


def test_next_page_to_another_origin_is_never_requested() -> None:
    fake = FakeZuora()
    fake.add_fault(
        pages_fault({1: numbered([1], 2), 2: page([2], "https://evil.example/workflows?page=3&page_length=50")})
    )
    with pytest.raises(ZuoraPaginationError, match="another origin"):
        walk(fake, expected=200)
    assert all(r.url.host == "rest.test.zuora.com" for r in fake.requests)


def test_page_cap_holds_for_pages_fetched_ahead() -> None:
    fake = FakeZuora(workflows=100)
    with pytest.raises(ZuoraPaginationError, match="within 3 pages"):
        walk(fake, expected=100, page_length=2, max_pages=3)
    assert len(list_requests(fake)) == 3


def test_a_failing_page_past_the_end_is_never_raised() -> None:
    fake = FakeZuora(workflows=20)
    fake.add_fault(pages_fault({2: lambda: httpx.Response(200, text="<html>oops</html>")}))
    # The listing ends on page 1 (20 < 50): page 2, fetched ahead, is malformed but not the walk's.
    assert walk(fake, expected=60) == list(range(1, 21))


def test_cursor_next_page_falls_back_to_following_next_page() -> None:
    cursors = {
        "1": ([1, 2], "/workflows?cursor=b"),
        "b": ([3, 4], "/workflows?cursor=c"),
        "c": ([5], None),
    }

    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != "/workflows":
            return None
        key = request.url.params.get("cursor") or request.url.params.get("page")
        if key not in cursors:  # a page number the cursor API does not know: garbage, ignored
            return httpx.Response(200, json={"data": [list_item(99)], "pagination": {"next_page": None}})
        ids, nxt = cursors[key]
        return httpx.Response(200, json={"data": [list_item(i) for i in ids], "pagination": {"next_page": nxt}})

    fake = FakeZuora()
    fake.add_fault(fault)
    assert walk(fake, expected=250) == [1, 2, 3, 4, 5]
    assert sum(1 for u in list_requests(fake) if "cursor" in u.params) == 2


def test_server_page_length_differs_falls_back() -> None:
    # A tenant that clamps page_length to 20: its next_page names page 2 of 20, not of 50.
    fake = FakeZuora(workflows=70)

    def clamp(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != "/workflows":
            return None
        number = int(request.url.params["page"])
        chunk = fake.ids[(number - 1) * 20 : number * 20]
        more = number * 20 < len(fake.ids)
        nxt = f"{BASE}/workflows?page={number + 1}&page_length=20" if more else None
        return httpx.Response(200, json={"data": [list_item(i) for i in chunk], "pagination": {"next_page": nxt}})

    fake.add_fault(clamp)
    assert walk(fake, expected=70) == list(range(1, 71))


def test_bad_credentials_cost_one_token_request_not_one_per_page() -> None:
    fake = FakeZuora(workflows=500)
    with make_client(fake, secret="wrong", settings=ClientSettings(page_length=10)) as client:
        with pytest.raises(ZuoraAuthenticationError):
            new_fetch(client, expected=500)[0].run()
    assert fake.count("/oauth/token") == 1
    assert list_requests(fake) == []
