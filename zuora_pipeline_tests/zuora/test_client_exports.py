"""Exports: single, gzip, concurrency cap, lazy id consumption, per-workflow failures."""

import gzip
import json
import queue
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from zuora_pipeline.zuora import (
    ClientSettings,
    ZuoraAuthenticationError,
    ZuoraMalformedResponseError,
    ZuoraNotFoundError,
    ZuoraPaginationError,
    ZuoraValidationError,
)
from zuora_pipeline.zuora.client import EXPORT_WINDOW

from .fakes import FakeZuora, export_body, make_client


def test_export_workflow() -> None:
    fake = FakeZuora()
    with make_client(fake) as client:
        export = client.export_workflow("3")
    assert export.workflow_id == 3
    assert export.content == json.dumps(export_body(3)).encode()  # the raw bytes, not re-encoded
    assert export.data == export_body(3)
    assert export.model.tasks[0].id == 31 and export.model.workflow.id == 10_003
    req = fake.requests[-1]
    assert str(req.url).endswith("/workflows/3/export") and req.headers["accept-encoding"] == "gzip"


def test_export_version_param_and_gzip() -> None:
    fake = FakeZuora()
    raw = json.dumps(export_body(2)).encode()
    fake.add_fault(
        lambda r: (
            httpx.Response(200, stream=httpx.ByteStream(gzip.compress(raw)), headers={"Content-Encoding": "gzip"})
            if r.url.path == "/workflows/2/export"
            else None
        )
    )
    with make_client(fake) as client:
        client.get_workflow(1)
        before = client.metrics.bytes_received
        export = client.export_workflow(2, version="0.0.2")
    assert export.content == raw  # decompressed, byte for byte
    assert fake.requests[-1].url.params["version"] == "0.0.2"
    assert 0 < client.metrics.bytes_received - before < len(raw)  # counted compressed, as on the wire


@pytest.mark.parametrize("bad", ["1/../x", "abc", True, 1.5])
def test_bad_ids_never_reach_a_url(bad: object) -> None:
    fake = FakeZuora()
    with make_client(fake) as client, pytest.raises(ValueError):
        client.export_workflow(bad)  # type: ignore[arg-type]
    assert fake.requests == []


def test_export_task_without_id_is_validation_error() -> None:
    fake = FakeZuora()
    fake.add_fault(
        lambda r: (
            httpx.Response(200, json={"workflow": {"id": 1}, "tasks": [{"name": "x"}]})
            if r.url.path.endswith("/export")
            else None
        )
    )
    with (
        make_client(fake) as client,
        pytest.raises(ZuoraValidationError, match="workflow 4: required field 'tasks.0.id'"),
    ):
        client.export_workflow(4)


def test_export_workflows_bounded_and_complete() -> None:
    fake = FakeZuora(workflows=60)
    fake.on_request = lambda r: time.sleep(0.005) if r.url.path.endswith("/export") else None
    with make_client(fake, settings=ClientSettings(concurrency=4)) as client:
        outcomes = list(client.export_workflows(range(1, 61)))
    assert sorted(o.workflow_id for o in outcomes) == list(range(1, 61))
    assert all(o.ok and o.export is not None for o in outcomes)
    assert 2 <= fake.max_in_flight <= 4
    assert client.metrics.max_in_flight <= 4
    assert client.metrics.as_dict()["requests_export_200"] == 60


def test_listing_and_exports_share_the_cap() -> None:
    fake = FakeZuora(workflows=100)
    fake.on_request = lambda r: time.sleep(0.003)
    with make_client(fake, settings=ClientSettings(concurrency=3, page_length=5)) as client:
        ids = (item.id for p in client.iter_workflow_pages() for item in p.items)
        outcomes = list(client.export_workflows(ids))
    assert len(outcomes) == 100
    assert fake.max_in_flight <= 3


def test_per_workflow_failures_do_not_stop_the_others() -> None:
    fake = FakeZuora(workflows=10)
    fake.add_fault(lambda r: httpx.Response(200, text="not json") if r.url.path == "/workflows/5/export" else None)
    with make_client(fake, settings=ClientSettings(concurrency=3)) as client:
        outcomes = {o.workflow_id: o for o in client.export_workflows([*range(1, 11), 999])}
    assert len(outcomes) == 11
    assert isinstance(outcomes[999].error, ZuoraNotFoundError) and outcomes[999].export is None
    assert isinstance(outcomes[5].error, ZuoraMalformedResponseError)
    assert "GET /workflows/5/export" in str(outcomes[5].error)
    assert sum(o.ok for o in outcomes.values()) == 9


def test_authentication_error_stops_the_batch() -> None:
    fake = FakeZuora(workflows=50)
    with make_client(fake, settings=ClientSettings(concurrency=2)) as client:
        client.get_workflow(1)
        fake.add_fault(lambda r: httpx.Response(401) if r.url.path.endswith("/export") else None)
        with pytest.raises(ZuoraAuthenticationError):
            list(client.export_workflows(range(1, 51)))
    assert fake.count("/export") < 20  # stopped early, not after all 50


def test_ids_are_consumed_lazily() -> None:
    fake = FakeZuora(workflows=100)
    fake.on_request = lambda r: time.sleep(0.01) if r.url.path.endswith("/export") else None
    pulled: list[int] = []

    def ids() -> Iterator[int]:
        for i in range(1, 101):
            pulled.append(i)
            yield i

    with make_client(fake, settings=ClientSettings(concurrency=4)) as client:
        outcomes = client.export_workflows(ids())
        next(outcomes)
        # Submitted ahead (the window) + the slot the taken outcome freed + the one waiting for it.
        assert len(pulled) <= EXPORT_WINDOW * 4 + 1 + 1
        outcomes.close()  # the consumer stops early: no more ids pulled, no more requests
        n = fake.count("/export")
        time.sleep(0.05)
        assert fake.count("/export") == n
    assert len(pulled) < 20


def test_exports_go_on_while_the_consumer_holds_an_outcome() -> None:
    """Workers take queued ids as they finish, without waiting for the consumer: while it holds
    its first outcome, the client completes the window's exports and the cap stays in flight."""
    cap = 3
    fake = FakeZuora(workflows=40)
    served = threading.Semaphore(0)
    fake.on_request = lambda r: served.release() if r.url.path.endswith("/export") else None
    with make_client(fake, settings=ClientSettings(concurrency=cap)) as client:
        outcomes = client.export_workflows(range(1, 41))
        next(outcomes)  # the consumer takes one outcome, then stops taking
        # Everything submitted so far is served: the window, and the slot the taken one freed.
        # A window of the cap alone would stop at cap + 1 here.
        for _ in range(max(2, EXPORT_WINDOW) * cap + 1):
            assert served.acquire(timeout=10)
        assert not served.acquire(timeout=0.2)  # and no further: the window bounds it
        assert fake.max_in_flight <= cap
        assert sum(1 for _ in outcomes) == 39


def test_ids_produced_by_another_thread() -> None:
    fake = FakeZuora(workflows=30)
    q: queue.Queue[int | None] = queue.Queue()

    def from_queue() -> Iterator[int]:
        while (item := q.get()) is not None:
            yield item

    def producer() -> None:
        for i in range(1, 31):
            q.put(i)
            time.sleep(0.001)
        q.put(None)

    with make_client(fake, settings=ClientSettings(concurrency=4)) as client:
        threading.Thread(target=producer).start()
        outcomes = list(client.export_workflows(from_queue()))
    assert sorted(o.workflow_id for o in outcomes) == list(range(1, 31))


def test_error_from_the_id_source_is_raised() -> None:
    fake = FakeZuora(workflows=5)

    def ids() -> Iterator[int]:
        yield 1
        raise ZuoraPaginationError("customer 'acme': pagination loop")

    with make_client(fake) as client, pytest.raises(ZuoraPaginationError):
        list(client.export_workflows(ids()))


def test_empty_input() -> None:
    with make_client(FakeZuora()) as client:
        assert list(client.export_workflows([])) == []
