"""What every response guarantees: the security headers, our own scripts and styles only (nothing
inline, nothing from the network), no secret on any page, and an error page instead of a stack
trace for any failure, a warehouse that cannot be reached included."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from zuora_pipeline.browser import compare_jobs
from zuora_pipeline.browser.app import create_app
from zuora_pipeline.browser.headers import SECURITY_HEADERS
from zuora_pipeline.warehouse import overview
from zuora_pipeline.warehouse.readonly import create_readonly_engine
from zuora_pipeline.warehouse.schema import customers
from zuora_pipeline_tests.browser.conftest import DAGSTER_URL, Browsed
from zuora_pipeline_tests.browser.support import fetch, main_text, page


def _urls(browsed: Browsed) -> list[str]:
    acme = f"/customers/acme/workflows/{browsed.edited}"
    planted = f"/customers/acme/workflows/{browsed.planted}"
    return [
        "/customers",
        "/customers/acme?deleted=1&size=200",
        "/customers/sandbox",
        "/customers/frozen",
        acme,
        f"{acme}/export",
        f"{acme}/diagram?revision=2&compare=1",
        f"{acme}/history",
        f"{acme}/diff",
        planted,
        f"{planted}/export",
        f"{planted}/diagram",
        "/changes?since=30d",
        "/search?q=example.com",
        "/compare",
        "/customers/nobody",
    ]


def test_every_page_uses_only_our_own_static_files(browsed: Browsed) -> None:
    for url in _urls(browsed):
        tree = page(browsed.client, url, 404 if url.endswith("nobody") else 200)
        for element in tree.find_all("script"):
            assert element.attrs.get("src") == "/static/app.js" and not element.text().strip(), url
        for element in tree.find_all("link"):
            assert str(element.attrs.get("href")).startswith("/static/"), url
        assert not tree.find_all("style") and not tree.find_all("iframe") and not tree.find_all("img")
        external = [h for h, _ in tree.links() if h.startswith(("http:", "https:", "//"))]
        assert all(h.startswith(f"{DAGSTER_URL}/") for h in external), (url, external)
    for asset, kind in (("app.js", "javascript"), ("app.css", "text/css"), ("favicon.svg", "image/svg+xml")):
        response = fetch(browsed.client, f"/static/{asset}")
        assert kind in response.headers["content-type"]
        text = response.text.replace("http://www.w3.org/2000/svg", "")  # a namespace name, not a request
        assert "http://" not in text and "https://" not in text


def test_no_secret_reaches_a_page(browsed: Browsed) -> None:
    with browsed.engine.connect() as conn:
        rows = list(conn.execute(sa.select(customers.c.client_id, customers.c.client_secret_encrypted)))
    tenants = {t.name: t for t in browsed.admin.tenants()}
    secrets = [s for row in rows for s in row] + [
        t.client_secret for name, t in tenants.items() if name in browsed.tenants.values()
    ]
    assert len(secrets) >= 6
    for url in _urls(browsed):
        body = browsed.client.get(url).text
        for secret in secrets:
            assert secret not in body, url


def test_security_headers_and_server_time_on_every_response(browsed: Browsed) -> None:
    for url in (
        "/customers",
        "/customers/nobody",
        "/static/app.js",
        f"/customers/acme/workflows/{browsed.edited}/export.json",
    ):
        response = browsed.client.get(url)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (url, name)
        assert response.headers["server-timing"].startswith("app;dur="), url
    assert "'unsafe-inline'" not in SECURITY_HEADERS["Content-Security-Policy"]


def test_nothing_changes_the_warehouse_through_the_browser(browsed: Browsed) -> None:
    for method in ("post", "put", "patch", "delete"):
        response = getattr(browsed.client, method)("/customers/acme")
        assert response.status_code == 405, method
    assert not any(
        (f.attrs.get("method") or "get").lower() != "get"
        for f in page(browsed.client, "/customers/acme").find_all("form")
    )


def test_a_failure_is_an_error_page_never_a_stack_trace(browsed: Browsed, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_conn: Any) -> Any:
        raise RuntimeError("boom: internal detail")

    monkeypatch.setattr(overview, "states", broken)
    response = fetch(browsed.client, "/customers", 500)
    assert "boom" not in response.text and "Traceback" not in response.text and "RuntimeError" not in response.text
    assert "the page could not be built" in response.text


def test_an_unreachable_warehouse_is_a_503_page() -> None:
    engine = create_readonly_engine("postgresql+psycopg://postgres@127.0.0.1:9/nowhere")
    with TestClient(create_app(engine), raise_server_exceptions=False) as client:
        tree = page(client, "/customers", 503)
    assert "the warehouse cannot be reached right now" in main_text(tree)
    assert "psycopg" not in main_text(tree) and "127.0.0.1" not in main_text(tree)


def test_a_failed_comparison_says_so_without_a_trace(browsed: Browsed, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("compare exploded: internal detail")

    monkeypatch.setattr(compare_jobs, "compare_tenants", broken)
    # A workflow name of its own: a comparison not asked for before, so it runs (and fails) now.
    url = f"/compare?a=acme&b=sandbox&workflow={quote(browsed.truth('acme')[browsed.edited]['list_item']['name'])}"
    deadline = time.monotonic() + 30
    while "The comparison failed" not in (text := main_text(page(browsed.client, url))):
        assert time.monotonic() < deadline, text
        time.sleep(0.1)
    assert "exploded" not in text and "Traceback" not in text


def test_no_page_even_reads_a_secret(browsed: Browsed) -> None:
    engine = create_readonly_engine(browsed.url)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        with TestClient(create_app(engine), raise_server_exceptions=False) as client:
            for url in [*_urls(browsed), "/search?q=example.com&customer=sandbox", "/changes?customer=acme"]:
                client.get(url)
    finally:
        engine.dispose()
    assert len(statements) > 30
    assert not [s for s in statements if "client_secret" in s or "client_id" in s or "customers.*" in s]
