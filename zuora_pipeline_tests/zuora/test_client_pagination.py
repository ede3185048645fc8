"""Page walks: following next_page, stopping rules, loops, repeats, caps, malformed pages."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from zuora_pipeline.zuora import (
    ClientSettings,
    ZuoraListingChangedError,
    ZuoraMalformedResponseError,
    ZuoraPaginationError,
    ZuoraValidationError,
)

from .fakes import BASE, FakeZuora, list_item, make_client


def pages_fault(pages: dict[int, Callable[[], httpx.Response]]) -> Callable[[httpx.Request], httpx.Response | None]:
    def fault(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != "/workflows":
            return None
        page = int(request.url.params.get("page", "1"))
        return pages[page]() if page in pages else None

    return fault


def page(ids: list[int], next_page: Any = "absent") -> Callable[[], httpx.Response]:
    body: dict[str, Any] = {"data": [list_item(i) for i in ids]}
    if next_page != "absent":
        body["pagination"] = {"next_page": next_page, "page": 1, "page_length": 50}
    return lambda: httpx.Response(200, json=body)


def walk(fake: FakeZuora, **settings: Any) -> list[int]:
    with make_client(fake, settings=ClientSettings(**settings)) as client:
        return [item.id for p in client.iter_workflow_pages() for item in p.items]


def test_walks_every_page_with_default_page_length() -> None:
    fake = FakeZuora(workflows=120)
    assert walk(fake) == list(range(1, 121))
    lists = [r for r in fake.requests if r.url.path == "/workflows"]
    assert str(lists[0].url) == f"{BASE}/workflows?page=1&page_length=50"
    assert len(lists) == 3


def test_page_objects() -> None:
    fake = FakeZuora(workflows=3)
    with make_client(fake, settings=ClientSettings(page_length=2)) as client:
        pages = list(client.iter_workflow_pages())
    assert [p.number for p in pages] == [1, 2]
    assert pages[0].next_page == f"{BASE}/workflows?page=2&page_length=2" == pages[1].url
    assert pages[1].next_page is None
    assert pages[0].body["data"][0]["id"] == 1  # raw JSON kept
    assert client.metrics.requests_total("list") == 2


@pytest.mark.parametrize("last", ["absent", None, "", "   "])
def test_stops_when_next_page_missing_null_or_empty(last: Any) -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: page([1, 2], "/workflows?page=2"), 2: page([3], last)}))
    assert walk(fake) == [1, 2, 3]
    assert fake.count("/workflows") == 2


def test_stops_on_empty_page_even_with_next_page() -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: page([1], "/workflows?page=2"), 2: page([], "/workflows?page=3")}))
    assert walk(fake) == [1]
    assert fake.count("/workflows") == 2


def test_next_page_loop_detected_before_requesting_again() -> None:
    fake = FakeZuora()
    fake.add_fault(
        pages_fault(
            {
                1: page([1], f"{BASE}/workflows?page=2&page_length=50"),
                2: page([2], f"{BASE}/workflows?page_length=50&page=1"),
            }
        )
    )
    with pytest.raises(ZuoraPaginationError) as info:
        walk(fake)
    msg = str(info.value)
    assert "'acme'" in msg and "loop" in msg and "page 3" in msg and "/workflows?page_length=50&page=1" in msg
    assert fake.count("/workflows") == 2


def test_page_repeating_only_seen_ids_is_a_loop() -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: page([1, 2], "/workflows?page=2"), 2: page([1, 2], "/workflows?page=3")}))
    with pytest.raises(ZuoraPaginationError, match="loop: page 2 .* repeats only ids already listed on page 1"):
        walk(fake)


def test_ids_shifting_across_pages_mean_the_listing_changed() -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: page([1, 2], "/workflows?page=2"), 2: page([2, 3], None)}))
    with pytest.raises(ZuoraListingChangedError, match="repeats 1 id.*changed while the pages were walked"):
        walk(fake)


def test_duplicate_ids_within_a_page() -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: page([1, 1], None)}))
    with pytest.raises(ZuoraPaginationError, match="more than once"):
        walk(fake)


def test_page_cap() -> None:
    fake = FakeZuora(workflows=10)
    with pytest.raises(ZuoraPaginationError, match="within 3 pages"):
        walk(fake, page_length=2, max_pages=3)
    assert fake.count("/workflows") == 3


def test_next_page_to_another_host_is_never_requested() -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: page([1], "https://evil.example/workflows?page=2")}))
    with pytest.raises(ZuoraPaginationError, match="another origin"):
        walk(fake)
    assert all(r.url.host == "rest.test.zuora.com" for r in fake.requests)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (lambda: httpx.Response(200, text="<html>oops</html>"), "list page 1 .*is not valid JSON.*oops"),
        (lambda: httpx.Response(200, json={"items": []}), "list page 1 .*has no `data` array"),
        (lambda: httpx.Response(200, json={"data": {"id": 1}}), "`data` that is not an array"),
        (lambda: httpx.Response(200, json=[1, 2]), "is not a JSON object"),
    ],
)
def test_malformed_page(response: Callable[[], httpx.Response], expected: str) -> None:
    fake = FakeZuora()
    fake.add_fault(pages_fault({1: response}))
    with pytest.raises(ZuoraMalformedResponseError, match=expected) as info:
        walk(fake)
    assert info.value.endpoint == "GET /workflows?page=1&page_length=50"


def test_malformed_second_page_names_the_page() -> None:
    fake = FakeZuora(workflows=4)
    fake.add_fault(pages_fault({2: lambda: httpx.Response(200, text="{truncated")}))
    with pytest.raises(ZuoraMalformedResponseError, match=r"list page 2 \(GET /workflows\?page=2&page_length=2\)"):
        walk(fake, page_length=2)


def test_list_item_missing_name() -> None:
    fake = FakeZuora()
    broken = {"data": [list_item(1), {"id": 77, "status": "Active"}]}
    fake.add_fault(pages_fault({1: lambda: httpx.Response(200, json=broken)}))
    with pytest.raises(ZuoraValidationError) as info:
        walk(fake)
    assert info.value.workflow_id == 77 and info.value.field == "name"
    assert "workflow 77 (item 2 of page 1): required field 'name' is missing" in str(info.value)
