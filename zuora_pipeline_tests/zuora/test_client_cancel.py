"""A caller's cancel event: no request once it is set, and a wait between attempts ends with it."""

import sys
import threading
import time

import httpx
import pytest

from zuora_pipeline.zuora import ClientSettings, RequestCancelled, TokenCache, ZuoraClient

from .fakes import BASE, CLIENT_ID, SECRET, FakeZuora, make_client


def test_no_request_once_cancelled() -> None:
    fake = FakeZuora()
    cancel = threading.Event()
    cancel.set()
    with make_client(fake) as client, pytest.raises(RequestCancelled, match="GET /workflows/1 cancelled"):
        client.get_workflow(1, cancel=cancel)
    assert fake.requests == []


def test_cancel_ends_a_wait_between_attempts() -> None:
    """Retry-After: 120 on wall-clock waits: setting the event ends the wait, and no further
    attempt is made."""
    fake = FakeZuora()
    throttled = threading.Event()

    def throttle(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != "/workflows/1":
            return None
        throttled.set()
        return httpx.Response(429, headers={"Retry-After": "120"})

    fake.add_fault(throttle)
    cancel = threading.Event()
    raised: list[BaseException] = []
    client = ZuoraClient(
        BASE,
        CLIENT_ID,
        SECRET,
        customer="acme",
        settings=ClientSettings(),
        transport=httpx.MockTransport(fake.handler),
        token_cache=TokenCache(),
    )

    def call() -> None:
        try:
            client.get_workflow(1, cancel=cancel)
        except BaseException as exc:
            raised.append(exc)

    with client:
        caller = threading.Thread(target=call)
        caller.start()
        assert throttled.wait(10)
        cancel.set()
        caller.join(timeout=10)  # not the 120 s the server asked for
        assert not caller.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], RequestCancelled)
    assert fake.count("/workflows/1") == 1
    assert client.metrics.retries["429"] == 1


def waits_for_a_slot(thread: threading.Thread) -> bool:
    """Whether ``thread`` is inside the limiter's slot(), i.e. waiting for one (the only other
    holder is blocked in the fake)."""
    frame = sys._current_frames().get(thread.ident or 0)
    while frame is not None:
        if frame.f_code.co_name == "slot":
            return True
        frame = frame.f_back
    return False


def test_a_request_waiting_for_a_slot_is_not_sent_after_cancel() -> None:
    fake = FakeZuora()
    entered, release = threading.Event(), threading.Event()

    def hold_the_first(request: httpx.Request) -> None:
        if request.url.path == "/workflows/1":
            entered.set()
            assert release.wait(10)

    fake.on_request = hold_the_first
    cancel = threading.Event()
    raised: list[BaseException] = []
    with make_client(fake, settings=ClientSettings(concurrency=1)) as client:
        client.authenticate()
        holder = threading.Thread(target=client.get_workflow, args=(1,))
        holder.start()
        assert entered.wait(10)

        def waiter() -> None:
            try:
                client.get_workflow(2, cancel=cancel)
            except BaseException as exc:
                raised.append(exc)

        second = threading.Thread(target=waiter)
        second.start()
        deadline = time.monotonic() + 10
        while not waits_for_a_slot(second):
            assert time.monotonic() < deadline, "the second request never waited for the slot"
            time.sleep(0.001)
        cancel.set()
        release.set()
        holder.join(timeout=10)
        second.join(timeout=10)
    assert len(raised) == 1 and isinstance(raised[0], RequestCancelled)
    assert fake.count("/workflows/2") == 0
