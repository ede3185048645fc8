"""The exports of a fetch: the concurrency cap, requests only as capacity frees up, per-workflow
failures, errors that stop everything, exports overlapping the walk."""

import threading
import time

import httpx
import pytest

from zuora_pipeline.sync import fetch as fetch_module
from zuora_pipeline.sync.fetch import EXPORT_WINDOW
from zuora_pipeline.warehouse.raw import RawExport
from zuora_pipeline.zuora import (
    ClientSettings,
    ZuoraAuthenticationError,
    ZuoraMalformedResponseError,
    ZuoraNotFoundError,
    ZuoraPaginationError,
)
from zuora_pipeline_tests.zuora.fakes import BASE, FakeZuora, make_client
from zuora_pipeline_tests.zuora.test_client_pagination import page, pages_fault

from .fetching import fetch_threads, new_fetch


def is_export(request: httpx.Request) -> bool:
    return request.url.path.endswith("/export")


def until_quiet(served: threading.Semaphore, quiet_s: float = 0.3) -> int:
    """How many more requests are served before none is for ``quiet_s``."""
    n = 0
    while served.acquire(timeout=quiet_s):
        n += 1
    return n


def test_exports_bounded_and_complete() -> None:
    fake = FakeZuora(workflows=60)
    fake.on_request = lambda r: time.sleep(0.005) if is_export(r) else None
    with make_client(fake, settings=ClientSettings(concurrency=4)) as client:
        fetch, staged = new_fetch(client)
        result = fetch.run()
    assert sorted(e.zuora_id for e in staged) == list(range(1, 61))
    assert result.errors == 0 and all(e.content for e in staged)
    assert 2 <= fake.max_in_flight <= 4
    assert client.metrics.max_in_flight <= 4
    assert client.metrics.as_dict()["requests_export_200"] == 60
    assert fetch_threads("acme") == []


def test_listing_and_exports_share_the_cap() -> None:
    fake = FakeZuora(workflows=100)
    fake.on_request = lambda r: time.sleep(0.003)
    with make_client(fake, settings=ClientSettings(concurrency=3, page_length=5)) as client:
        fetch, staged = new_fetch(client)
        fetch.run()
    assert len(staged) == 100
    assert fake.max_in_flight <= 3


def test_exports_start_while_pages_are_still_listed() -> None:
    fake = FakeZuora(workflows=30)
    fake.on_request = lambda r: time.sleep(0.002)
    with make_client(fake, settings=ClientSettings(concurrency=4, page_length=5)) as client:
        fetch, staged = new_fetch(client)
        fetch.run()
    assert sorted(e.zuora_id for e in staged) == list(range(1, 31))
    paths = [r.url.path for r in fake.requests]
    last_page = max(i for i, path in enumerate(paths) if path == "/workflows")
    assert any(path.endswith("/export") for path in paths[:last_page])


def test_per_workflow_failures_do_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_module, "REFETCH_PAUSE_S", 0.01)
    fake = FakeZuora(workflows=10)
    fake.ids.append(999)
    fake.add_fault(lambda r: httpx.Response(200, text="not json") if r.url.path == "/workflows/5/export" else None)
    fake.add_fault(lambda r: httpx.Response(404, json={}) if r.url.path == "/workflows/999/export" else None)
    with make_client(fake, settings=ClientSettings(concurrency=3)) as client:
        fetch, staged = new_fetch(client)
        result = fetch.run()
    assert len(staged) + len(fetch.failed) == 11
    assert isinstance(fetch.failed[999], ZuoraNotFoundError) and 999 not in {e.zuora_id for e in staged}
    assert isinstance(fetch.failed[5], ZuoraMalformedResponseError)
    assert "GET /workflows/5/export" in str(fetch.failed[5])
    assert len(staged) == 9 and result.errors == 2 and result.malformed_exports == 1
    # A malformed export is asked for again in each further pass; a 404 is not.
    assert fake.count("/workflows/5/export") == 1 + fetch_module.REFETCH_ROUNDS
    assert fake.count("/workflows/999/export") == 1


def test_authentication_error_stops_the_fetch() -> None:
    fake = FakeZuora(workflows=50)
    with make_client(fake, settings=ClientSettings(concurrency=2)) as client:
        client.get_workflow(1)
        fake.add_fault(lambda r: httpx.Response(401) if is_export(r) else None)
        with pytest.raises(ZuoraAuthenticationError):
            new_fetch(client)[0].run()
    assert fake.count("/export") < 20  # stopped early, not after all 50
    assert fetch_threads("acme") == []


def test_exports_are_requested_only_as_capacity_frees_up() -> None:
    """While the first batch is written, one more batch may wait for the writer; past that no
    export is requested, and leaving the fetch (here by the write failing) requests no more."""
    fake = FakeZuora(workflows=100)
    served = threading.Semaphore(0)

    def slow_export(request: httpx.Request) -> None:
        if is_export(request):
            time.sleep(0.01)
            served.release()

    fake.on_request = slow_export
    pulled: list[int] = []

    def first_write_fails(batch: list[RawExport]) -> None:
        pulled.extend([0] * until_quiet(served))
        raise RuntimeError("the consumer stops early")

    with make_client(fake, settings=ClientSettings(concurrency=4)) as client:
        fetch, _ = new_fetch(client, write=first_write_fails, batch_size=1)
        with pytest.raises(RuntimeError, match="stops early"):
            fetch.run()
        # The batch written + the one waiting behind it + what was requested ahead (the window).
        assert len(pulled) <= EXPORT_WINDOW * 4 + 1 + 1
        n = fake.count("/export")
        assert fetch_threads("acme") == []  # nothing left that could request more
        assert fake.count("/export") == n
    assert len(pulled) < 20


def test_exports_go_on_while_a_batch_is_written() -> None:
    """Workers take queued exports as they finish, without waiting for the fetch's thread: while
    the first batch is written, the window's exports complete with the cap in flight, and one
    batch waits behind the write before the download stalls."""
    cap = 3
    fake = FakeZuora(workflows=40)
    served = threading.Semaphore(0)
    fake.on_request = lambda r: served.release() if is_export(r) else None
    writes: list[list[RawExport]] = []

    def write(batch: list[RawExport]) -> None:
        if not writes:  # the first write holds until the download has stalled
            # Everything requested so far is served: the window, and the slot the first
            # finished export freed. A window of the cap alone would stop at cap + 1 here.
            for _ in range(max(2, EXPORT_WINDOW) * cap + 1):
                assert served.acquire(timeout=10)
            assert not served.acquire(timeout=0.2)  # and no further: the window bounds it
            assert fake.max_in_flight <= cap
        writes.append(batch)

    with make_client(fake, settings=ClientSettings(concurrency=cap)) as client:
        fetch, _ = new_fetch(client, write=write, batch_size=1)
        result = fetch.run()
    assert sum(len(batch) for batch in writes[1:]) == 39
    assert result.exports_downloaded == 40


def test_an_error_of_the_walk_after_exports_began_is_raised() -> None:
    fake = FakeZuora(workflows=5)
    fake.add_fault(pages_fault({1: page([1], f"{BASE}/workflows?page=2&page_length=50"), 2: page([1], None)}))
    with make_client(fake) as client, pytest.raises(ZuoraPaginationError):
        new_fetch(client)[0].run()
    assert fetch_threads("acme") == []


def test_empty_listing() -> None:
    with make_client(FakeZuora(workflows=0)) as client:
        fetch, staged = new_fetch(client)
        result = fetch.run()
    assert staged == [] and result.exports_requested == 0 and result.pages == 1


def test_stored_workflows_missing_from_the_listing_are_confirmed_gone() -> None:
    fake = FakeZuora(workflows=10)
    with make_client(fake) as client:
        fetch, _ = new_fetch(client, stored_ids=[*range(1, 11), 11, 12])
        result = fetch.run()
    assert result.vanished_confirmed == 2
    assert fake.count("/workflows/11") == fake.count("/workflows/12") == 1
