"""OAuth behaviour of ZuoraClient against an httpx.MockTransport fake."""

import threading
from urllib.parse import parse_qs

import httpx
import pytest

from zuora_pipeline.zuora import ClientSettings, TokenCache, ZuoraAuthenticationError
from zuora_pipeline.zuora.auth import token_lifetime

from .fakes import BASE, CLIENT_ID, SECRET, FakeZuora, make_client, once


def test_token_request_shape_and_reuse() -> None:
    fake = FakeZuora(workflows=5)
    with make_client(fake) as client:
        for wid in (1, 2, 3):
            client.get_workflow(wid)
    token_requests = [r for r in fake.requests if r.url.path == "/oauth/token"]
    assert len(token_requests) == 1
    req = token_requests[0]
    assert str(req.url) == f"{BASE}/oauth/token"
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in req.headers
    assert parse_qs(req.content.decode()) == {
        "client_id": [CLIENT_ID],
        "client_secret": [SECRET],
        "grant_type": ["client_credentials"],
    }
    api = [r for r in fake.requests if r.url.path != "/oauth/token"]
    assert all(r.headers["authorization"].startswith("Bearer tok") for r in api)
    assert client.metrics.tokens_fetched == 1


def test_token_shared_between_clients_of_same_base_and_id() -> None:
    fake = FakeZuora()
    cache = TokenCache()
    with make_client(fake, cache=cache) as a, make_client(fake, cache=cache) as b:
        a.get_workflow(1)
        b.get_workflow(2)
    assert fake.tokens_issued == 1


@pytest.mark.parametrize(
    ("expires_in", "margin", "expected"),
    [(3599, 60, 3539), (None, 60, 3540), (0, 60, 3540), (100, 60, 50), (10, 0, 10)],
)
def test_token_lifetime(expires_in: float | None, margin: float, expected: float) -> None:
    assert token_lifetime(expires_in, margin) == expected


def test_token_refreshed_after_expiry_minus_margin() -> None:
    now = [1000.0]
    cache = TokenCache(clock=lambda: now[0])
    fake = FakeZuora(expires_in=600)
    with make_client(fake, cache=cache, settings=ClientSettings(token_refresh_margin_s=60)) as client:
        client.get_workflow(1)
        now[0] += 539  # still inside expires_in - margin
        client.get_workflow(1)
        assert fake.tokens_issued == 1
        now[0] += 2  # past it
        client.get_workflow(1)
        assert fake.tokens_issued == 2


def test_401_refreshes_once_and_replays() -> None:
    fake = FakeZuora(workflows=5)
    with make_client(fake, settings=ClientSettings(page_length=2)) as client:
        pages = client.iter_workflow_pages()
        first = next(pages)
        fake.revoke_all()  # tokens revoked mid-walk
        rest = list(pages)
    assert [i.id for p in [first, *rest] for i in p.items] == [1, 2, 3, 4, 5]
    assert fake.tokens_issued == 2
    assert client.metrics.token_refreshes == 1


def test_401_surviving_a_refresh_is_an_authentication_error() -> None:
    fake = FakeZuora()
    fake.add_fault(
        lambda r: (
            httpx.Response(401, json={"message": "Authentication error"})
            if r.url.path.startswith("/workflows")
            else None
        )
    )
    with make_client(fake) as client, pytest.raises(ZuoraAuthenticationError) as info:
        client.get_workflow(1)
    assert fake.tokens_issued == 2  # the first token, then exactly one refresh
    assert fake.count("/workflows/1") == 2
    assert info.value.endpoint == "GET /workflows/1" and info.value.status == 401


def test_concurrent_401s_share_one_refresh() -> None:
    n = 8
    fake = FakeZuora(workflows=n)
    barrier = threading.Barrier(n, timeout=10)
    with make_client(fake, settings=ClientSettings(concurrency=n)) as client:
        client.get_workflow(1)
        first_token = next(iter(fake.valid_tokens))
        fake.revoke_all()

        def hold_stale(request: httpx.Request) -> None:
            # Every thread's first request (with the revoked token) waits until all n are in flight,
            # so all n get their 401 at once.
            if request.headers.get("authorization") == f"Bearer {first_token}":
                barrier.wait()

        fake.on_request = hold_stale
        errors: list[BaseException] = []

        def work(wid: int) -> None:
            try:
                client.get_workflow(wid)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i + 1,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
    assert not errors
    assert fake.tokens_issued == 2  # one initial + exactly one refresh for all n 401s
    assert client.metrics.tokens_fetched == 2


def test_bad_credentials() -> None:
    fake = FakeZuora()
    with make_client(fake, secret="wrong-secret-123456") as client, pytest.raises(ZuoraAuthenticationError) as info:
        list(client.iter_workflow_pages())
    message = str(info.value)
    assert "'acme'" in message and BASE in message
    assert "check the client id and secret" in message.lower()
    assert "zuora-pipeline customers update acme" in message and "customers resume acme" in message
    assert "wrong-secret-123456" not in message and "wrong-secret-123456" not in repr(info.value)
    assert fake.count("/oauth/token") == 1  # never retried
    assert fake.count("/workflows") == 0


@pytest.mark.parametrize("status", [400, 403, 404])
def test_any_other_token_status_is_an_auth_error(status: int) -> None:
    fake = FakeZuora()
    fake.add_fault(lambda r: httpx.Response(status, text="nope") if r.url.path == "/oauth/token" else None)
    with make_client(fake) as client, pytest.raises(ZuoraAuthenticationError):
        client.get_workflow(1)
    assert fake.count("/oauth/token") == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_token_endpoint_429_and_5xx_are_retried(status: int) -> None:
    fake = FakeZuora()
    fake.add_fault(
        once(
            lambda r: r.url.path == "/oauth/token",
            lambda: httpx.Response(status, headers={"Retry-After": "1"}),
            times=2,
        )
    )
    with make_client(fake) as client:
        assert client.get_workflow(1).id == 1
    assert fake.count("/oauth/token") == 3
    assert client.metrics.retries[str(status)] == 2


def test_token_response_without_access_token() -> None:
    fake = FakeZuora()
    fake.add_fault(
        lambda r: httpx.Response(200, json={"token_type": "bearer"}) if r.url.path == "/oauth/token" else None
    )
    from zuora_pipeline.zuora import ZuoraMalformedResponseError

    with make_client(fake) as client, pytest.raises(ZuoraMalformedResponseError, match="access_token"):
        client.get_workflow(1)


def test_token_response_with_unusable_field_names_the_field_not_the_token() -> None:
    fake = FakeZuora()
    fake.add_fault(
        lambda r: (
            httpx.Response(200, json={"access_token": "tok-visible", "expires_in": "soon"})
            if r.url.path == "/oauth/token"
            else None
        )
    )
    from zuora_pipeline.zuora import ZuoraMalformedResponseError

    with make_client(fake) as client, pytest.raises(ZuoraMalformedResponseError, match="'expires_in'") as info:
        client.get_workflow(1)
    assert "tok-visible" not in str(info.value) + repr(info.value)


def test_a_cached_token_is_not_reused_with_another_secret() -> None:
    # After a credential change a token minted with the old secret must not mask a wrong new one.
    fake = FakeZuora()
    cache = TokenCache()
    with make_client(fake, cache=cache) as good:
        good.get_workflow(1)
    with make_client(fake, cache=cache, secret="rotated-but-wrong") as bad, pytest.raises(ZuoraAuthenticationError):
        bad.get_workflow(1)
