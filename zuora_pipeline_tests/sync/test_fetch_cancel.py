"""Stopping a fetch: a set cancel event raises Interrupted promptly (even through the client's
retry waits) and publishes nothing; leaving by any exception, KeyboardInterrupt included, stops
and joins every thread the fetch started."""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from zuora_pipeline.sync import fetch
from zuora_pipeline.sync.errors import Interrupted
from zuora_pipeline.warehouse import raw
from zuora_pipeline.zuora import ClientSettings, TokenCache, ZuoraClient
from zuora_pipeline_tests.zuora.fakes import BASE, CLIENT_ID, SECRET, FakeZuora, make_client

from .fetching import fetch_threads, new_fetch


def in_thread(run: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    raised: list[BaseException] = []

    def target() -> None:
        try:
            run()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, raised


def test_cancel_ends_the_fetch_through_the_clients_retry_waits() -> None:
    """Every export answers 429 with Retry-After: 120 and the client waits on the wall clock:
    the cancel must end those waits, not let them run out."""
    fake = FakeZuora(workflows=30)
    throttled = threading.Event()

    def throttle(request: httpx.Request) -> httpx.Response | None:
        if not request.url.path.endswith("/export"):
            return None
        throttled.set()
        return httpx.Response(429, headers={"Retry-After": "120"})

    fake.add_fault(throttle)
    cancel = threading.Event()
    with ZuoraClient(
        BASE,
        CLIENT_ID,
        SECRET,
        customer="acme",
        settings=ClientSettings(concurrency=4),
        transport=httpx.MockTransport(fake.handler),
        token_cache=TokenCache(),
    ) as client:
        the_fetch, staged = new_fetch(client, cancel=cancel)
        thread, raised = in_thread(the_fetch.run)
        assert throttled.wait(10)
        exports_before = fake.count("/export")
        cancel.set()
        thread.join(timeout=10)  # not the 120 s the server asked for
        assert not thread.is_alive(), "the fetch did not stop on cancel"
    assert len(raised) == 1 and isinstance(raised[0], Interrupted), raised
    assert "stopped on request" in str(raised[0]) and "acme" in str(raised[0])
    assert fetch_threads("acme") == []
    assert staged == []
    # The waits ended without another attempt: only exports first sent after the cancel's
    # moment could add to the count, and the workers stop taking new ones.
    assert fake.count("/export") <= exports_before + 4


def test_cancel_ends_the_wait_for_a_token() -> None:
    """The token is asked for on the fetch's own thread before anything else: a cancel ends
    its retry wait too."""
    fake = FakeZuora(workflows=30)
    asked = threading.Event()

    def throttle(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != "/oauth/token":
            return None
        asked.set()
        return httpx.Response(429, headers={"Retry-After": "120"})

    fake.add_fault(throttle)
    cancel = threading.Event()
    with ZuoraClient(
        BASE,
        CLIENT_ID,
        SECRET,
        customer="acme",
        transport=httpx.MockTransport(fake.handler),
        token_cache=TokenCache(),
    ) as client:
        the_fetch, _ = new_fetch(client, expected=30, cancel=cancel)
        thread, raised = in_thread(the_fetch.run)
        assert asked.wait(10)
        cancel.set()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the fetch did not stop on cancel"
    assert len(raised) == 1 and isinstance(raised[0], Interrupted), raised
    assert fake.count("/oauth/token") == 1 and fake.count("/workflows") == 0
    assert fetch_threads("acme") == []


def test_cancel_during_the_download_stops_every_thread() -> None:
    fake = FakeZuora(workflows=500)
    cancel = threading.Event()
    served = threading.Semaphore(0)

    def slow_export(request: httpx.Request) -> None:
        if request.url.path.endswith("/export"):
            time.sleep(0.005)
            served.release()

    fake.on_request = slow_export
    with make_client(fake, settings=ClientSettings(concurrency=4)) as client:
        the_fetch, _ = new_fetch(client, cancel=cancel, batch_size=10)
        thread, raised = in_thread(the_fetch.run)
        for _ in range(20):
            assert served.acquire(timeout=10)
        cancel.set()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the fetch did not stop on cancel"
    assert len(raised) == 1 and isinstance(raised[0], Interrupted), raised
    assert fetch_threads("acme") == []
    assert fake.count("/export") < 500


def test_keyboard_interrupt_stops_and_joins_every_thread() -> None:
    fake = FakeZuora(workflows=2000)
    exporting = threading.Event()

    def slow_export(request: httpx.Request) -> None:
        if request.url.path.endswith("/export"):
            exporting.set()
            time.sleep(0.005)

    fake.on_request = slow_export

    def interrupt() -> None:
        assert exporting.wait(10)
        _thread.interrupt_main()  # as Ctrl-C does, on the fetch's (main) thread

    with make_client(fake, settings=ClientSettings(concurrency=4)) as client:
        the_fetch, _ = new_fetch(client)
        threading.Thread(target=interrupt).start()
        with pytest.raises(KeyboardInterrupt):
            the_fetch.run()
    assert fetch_threads("acme") == []
    assert fake.count("/export") < 2000


def test_a_cancelled_fetch_publishes_nothing(pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = sim_tenant(workflows=40, tasks=1)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    customer = pipeline.customer(name)

    def published() -> tuple[dict[int, str], tuple[int, int]]:
        with pipeline.engine.connect() as conn:
            return raw.export_fingerprints(conn, customer.id), raw.page_stats(conn, customer.id)

    before = published()
    pipeline.simulator.admin.mutate(tenant.name, update=10, seed=3)
    cancel = threading.Event()
    stage_exports = raw.stage_exports

    def cancel_at_first_write(conn: Any, customer_id: int, exports: Any, **kw: Any) -> int:
        cancel.set()  # Ctrl-C while the first batch is staged
        return stage_exports(conn, customer_id, exports, **kw)

    monkeypatch.setattr(raw, "stage_exports", cancel_at_first_write)
    with pipeline.zuora_resource(concurrency=4).client_for(customer) as client:
        with pytest.raises(Interrupted):
            fetch.fetch_workflow_definitions(
                pipeline.engine, customer, client, run_id="cancelled", batch_size=2, cancel=cancel
            )
    assert published() == before
    assert fetch_threads(name) == []
