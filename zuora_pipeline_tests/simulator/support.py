"""Small HTTP helpers shared by the simulator tests (plain httpx, no project client)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from zuora_pipeline.simulator.admin_client import TenantInfo

# Zuora's published OpenAPI files (Workflow API and OAuth), kept verbatim with the tests.
OPENAPI_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "zuora_openapi"


def get_token(base_url: str, tenant: TenantInfo) -> str:
    response = httpx.post(
        f"{base_url}/oauth/token",
        data={"client_id": tenant.client_id, "client_secret": tenant.client_secret, "grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@contextmanager
def api_client(base_url: str, tenant: TenantInfo, *, timeout: float = 10.0, **headers: str) -> Iterator[httpx.Client]:
    token = get_token(base_url, tenant)
    merged = {"Authorization": f"Bearer {token}", **{k.replace("_", "-"): v for k, v in headers.items()}}
    with httpx.Client(base_url=base_url, headers=merged, timeout=timeout) as client:
        yield client


def walk_pages(
    client: httpx.Client, page_length: int = 20, max_pages: int = 1000
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow next_page to the end; return (items, pagination objects)."""
    items: list[dict[str, Any]] = []
    paginations: list[dict[str, Any]] = []
    url: str | None = f"/workflows?page=1&page_length={page_length}"
    while url:
        assert len(paginations) < max_pages, "pagination does not end"
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["data"])
        paginations.append(body["pagination"])
        url = body["pagination"].get("next_page") or None
    return items, paginations


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)  # 3.11 accepts the trailing Z
