"""ZuoraClient over real HTTP against the Zuora simulator (and, for a next_page loop, a tiny server
of our own: the simulator has no fault that makes next_page loop). Many exports at once belong to a
fetch (zuora_pipeline_tests/sync/test_fetch_simulator.py).

Uses the session `simulator` fixture. Each test makes its own tenant (`sim_tenant`), so per-tenant
counters (tokens issued, max in flight) belong to that test alone; tests that change limits,
options or faults request `sim_admin_reset`, which restores them afterwards.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from zuora_pipeline.zuora import (
    ClientSettings,
    TokenCache,
    UnsafeBaseUrlError,
    ZuoraAuthenticationError,
    ZuoraClient,
    ZuoraMalformedResponseError,
    ZuoraPaginationError,
)


def host_of(url: str) -> str:
    return urlsplit(url).netloc


def client_for(
    sim: Any, t: Any, *, secret: str | None = None, sleep: Callable[[float], None] = time.sleep, **settings: Any
) -> ZuoraClient:
    return ZuoraClient(
        sim.base_url,
        t.client_id,
        t.client_secret if secret is None else secret,
        customer=t.name,
        settings=ClientSettings(allowed_hosts=(host_of(sim.base_url),), **settings),
        token_cache=TokenCache(),
        sleep=sleep,
    )


def walk_ids(client: ZuoraClient) -> list[int]:
    return [item.id for page in client.iter_workflow_pages() for item in page.items]


def test_tokens_revoked_mid_walk_cause_one_refresh_and_a_complete_walk(
    simulator: Any, sim_tenant: Callable[..., Any]
) -> None:
    t = sim_tenant(workflows=300)
    with client_for(simulator, t, page_length=10) as client:
        pages = client.iter_workflow_pages()
        ids = [item.id for _, page in zip(range(5), pages, strict=False) for item in page.items]
        simulator.admin.revoke_tokens(t.name)
        ids += [item.id for page in pages for item in page.items]
    assert sorted(ids) == sorted(simulator.admin.truth(t.name))
    assert simulator.admin.stats()["tokens_issued"][t.name] == 2
    assert client.metrics.token_refreshes == 1


@pytest.mark.usefixtures("sim_admin_reset")
def test_429_with_only_ratelimit_reset(simulator: Any, sim_tenant: Callable[..., Any]) -> None:
    t = sim_tenant(workflows=5)
    simulator.admin.set_options(retry_after_mode="absent")
    simulator.admin.add_fault_rules([{"endpoint": "get", "fault": "429", "times": 1, "tenant": t.name}])
    waits: list[float] = []
    with client_for(simulator, t, sleep=waits.append) as client:
        wid = next(iter(simulator.admin.truth(t.name)))
        assert client.get_workflow(wid).id == wid
    assert len(waits) == 1 and waits[0] >= 0.5


@pytest.mark.usefixtures("sim_admin_reset")
def test_a_once_malformed_page_is_asked_for_again(simulator: Any, sim_tenant: Callable[..., Any]) -> None:
    t = sim_tenant(workflows=30)
    simulator.admin.add_fault_rules(
        [{"endpoint": "list", "fault": "malformed", "times": 1, "after": 1, "tenant": t.name}]
    )
    with client_for(simulator, t, page_length=10, backoff_base=0.01) as client:
        ids = walk_ids(client)
    assert sorted(ids) == sorted(simulator.admin.truth(t.name))
    assert client.metrics.as_dict()["retries_malformed"] == 1
    assert client.metrics.requests_total("list") == 4


def test_a_persistently_malformed_page_is_a_clear_error(simulator: Any, sim_tenant: Callable[..., Any]) -> None:
    t = sim_tenant(workflows=30)
    simulator.admin.add_fault_rules(
        [{"endpoint": "list", "fault": "malformed", "times": 1000, "after": 1, "tenant": t.name}]
    )
    settings: dict[str, Any] = {"page_length": 10, "backoff_base": 0.01, "max_attempts": 3}
    with client_for(simulator, t, **settings) as client, pytest.raises(ZuoraMalformedResponseError) as info:
        walk_ids(client)
    assert "list page 2" in str(info.value) and "page=2" in str(info.value)
    assert "in each of 3 attempt(s)" in str(info.value)
    assert info.value.customer == t.name
    assert client.metrics.requests_total("list") == 1 + 3


@pytest.mark.usefixtures("sim_admin_reset")
@pytest.mark.parametrize("status", [400, 401])
def test_bad_credentials(simulator: Any, sim_tenant: Callable[..., Any], status: int) -> None:
    t = sim_tenant(workflows=3)
    simulator.admin.set_options(bad_credentials_status=status)
    wrong = "WrongSecret" + t.client_secret[11:]
    with client_for(simulator, t, secret=wrong) as client, pytest.raises(ZuoraAuthenticationError) as info:
        walk_ids(client)
    text = str(info.value) + repr(info.value)
    assert wrong not in text and t.client_secret not in text
    assert t.name in text and simulator.base_url in text and "customers update" in text
    assert simulator.admin.stats()["tokens_issued"].get(t.name, 0) == 0


def test_non_allowed_base_url_makes_no_request(
    simulator: Any, sim_tenant: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    t = sim_tenant(workflows=3)
    monkeypatch.setenv("ZUORA_PIPELINE_ALLOWED_HOSTS", host_of(simulator.base_url))  # the client never reads it
    before = simulator.admin.stats()["requests_total"]
    with pytest.raises(UnsafeBaseUrlError):
        ZuoraClient(simulator.base_url, t.client_id, t.client_secret, customer=t.name)
    assert simulator.admin.stats()["requests_total"] == before
    # ... and allowed through its settings (the `zuora` resource's allowed_hosts field)
    settings = ClientSettings(allowed_hosts=(host_of(simulator.base_url),))
    with ZuoraClient(
        simulator.base_url, t.client_id, t.client_secret, customer=t.name, settings=settings, token_cache=TokenCache()
    ) as c:
        assert len(walk_ids(c)) == 3


@pytest.mark.usefixtures("sim_admin_reset")
@pytest.mark.parametrize("repr_", ["null", "empty", "missing"])
@pytest.mark.parametrize("last", ["omit", "null", "empty"])
def test_tolerates_documented_variants(simulator: Any, sim_tenant: Callable[..., Any], repr_: str, last: str) -> None:
    t = sim_tenant(workflows=45)
    simulator.admin.set_options(no_active_version_repr=repr_, last_page_next=last)
    truth = simulator.admin.truth(t.name)
    with client_for(simulator, t, page_length=20) as client:
        items = {item.id: item for page in client.iter_workflow_pages() for item in page.items}
    assert set(items) == set(truth)
    for wid, item in items.items():
        assert (item.active_version is None) == (truth[wid]["export"] is None)


# ---- a pagination loop over real HTTP: a tiny server of our own -----------------------------


class _LoopingZuora(BaseHTTPRequestHandler):
    """Token endpoint plus a /workflows whose page 3 points back at page 1."""

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _json(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._json({"access_token": "a" * 32, "token_type": "bearer", "expires_in": 3599})

    def do_GET(self) -> None:
        page = int(self.path.split("page=")[1].split("&")[0])
        nxt = {
            1: "/workflows?page=2&page_length=2",
            2: "/workflows?page=3&page_length=2",
            3: "/workflows?page=1&page_length=2",
        }[page]
        self._json(
            {
                "data": [{"id": page * 10 + i, "name": f"w{page}{i}"} for i in range(2)],
                "pagination": {"next_page": f"http://{self.headers['Host']}{nxt}", "page": page, "page_length": 2},
            }
        )


def test_pagination_loop_over_real_http() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LoopingZuora)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with ZuoraClient(
            base,
            "id",
            "secret",
            customer="loopy",
            token_cache=TokenCache(),
            settings=ClientSettings(page_length=2, allowed_hosts=(host_of(base),)),
        ) as client:
            seen: list[int] = []
            with pytest.raises(ZuoraPaginationError) as info:
                for page in client.iter_workflow_pages():
                    seen += [item.id for item in page.items]
        assert seen == [10, 11, 20, 21, 30, 31]
        assert "loopy" in str(info.value) and "loop" in str(info.value) and "page 4" in str(info.value)
        assert client.metrics.requests_total("list") == 3
    finally:
        server.shutdown()
        server.server_close()
