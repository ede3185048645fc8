"""What the browser's tests share: fetching a page and checking the headers every response has."""

from __future__ import annotations

from typing import Any

from zuora_pipeline.browser.headers import CONTENT_SECURITY_POLICY
from zuora_pipeline_tests.browser.html_tree import Element, parse


def fetch(client: Any, url: str, status: int = 200) -> Any:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    return response


def page(client: Any, url: str, status: int = 200) -> Element:
    response = fetch(client, url, status)
    assert response.headers["content-type"].startswith("text/html")
    return parse(response.text)


def main_text(tree: Element) -> str:
    (main,) = tree.find_all("main")
    return main.words()
