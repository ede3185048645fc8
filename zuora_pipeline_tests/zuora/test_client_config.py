"""Construction: pooled httpx client settings, settings validation, the process-wide token cache."""

import httpx
import pytest

from zuora_pipeline.zuora import DEFAULT_TOKEN_CACHE, ClientSettings, ZuoraClient

from .fakes import BASE, CLIENT_ID, SECRET, FakeZuora, make_client


def test_http_client_configuration() -> None:
    settings = ClientSettings(concurrency=5, connect_timeout=2.5, read_timeout=12.0)
    with make_client(FakeZuora(), settings=settings) as client:
        http = client._http
        assert http.timeout.connect == 2.5 and http.timeout.read == 12.0
        assert http.headers["accept-encoding"] == "gzip"
        assert http.follow_redirects is False
        pool = http._transport  # MockTransport here; check the limits we would give a real pool
    assert client.base_url == BASE
    with ZuoraClient(BASE, CLIENT_ID, SECRET, customer="acme", settings=settings) as real:
        pool = real._http._transport._pool  # type: ignore[attr-defined]
        assert pool._max_connections == 6 and pool._max_keepalive_connections == 6
    assert real._http.is_closed


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page_length": 0},
        {"page_length": 51},
        {"concurrency": 0},
        {"max_attempts": 0},
        {"max_pages": 0},
        {"read_timeout": 0},
        {"retry_budget_s": -1},
    ],
)
def test_settings_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ClientSettings(**kwargs)  # type: ignore[arg-type]


def test_single_allowed_host_string_is_not_split_into_characters() -> None:
    assert ClientSettings(allowed_hosts="127.0.0.1:8080").allowed_hosts == ("127.0.0.1:8080",)  # type: ignore[arg-type]


def test_default_token_cache_is_shared_process_wide() -> None:
    fake = FakeZuora()

    def client() -> ZuoraClient:
        return ZuoraClient(BASE, CLIENT_ID, SECRET, customer="acme", transport=httpx.MockTransport(fake.handler))

    key = client()._token_key
    DEFAULT_TOKEN_CACHE.invalidate(key)  # whatever an earlier test left behind
    try:
        for _ in range(3):
            with client() as c:
                c.get_workflow(1)
        assert fake.tokens_issued == 1
    finally:
        DEFAULT_TOKEN_CACHE.invalidate(key)
