"""The pages across customers: compare (the pairing of ``zuora-pipeline compare``), search (the index
of ``zuora-pipeline search``, the match shown), changes (the change log, filtered and paged)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import pytest

from zuora_pipeline.audit.compare import Listed, TenantComparison, compare_tenants
from zuora_pipeline.warehouse import customers, history
from zuora_pipeline.warehouse import workflows as workflow_table
from zuora_pipeline.warehouse.search import search
from zuora_pipeline.warehouse.search_pages import first_workflows
from zuora_pipeline_tests.browser.conftest import XSS_URL, Browsed
from zuora_pipeline_tests.browser.html_tree import Element
from zuora_pipeline_tests.browser.support import main_text, page


def _expected_comparison(browsed: Browsed, a: str, b: str) -> TenantComparison:
    with browsed.engine.connect() as conn:
        found = {"a": customers.get(conn, a), "b": customers.get(conn, b)}
        listed = {
            side: [
                Listed(int(r.zuora_id), r.name, r.state, r.created_on) for r in workflow_table.live_listing(conn, c.id)
            ]
            for side, c in found.items()
        }

        def load(side: str, ids: Sequence[int]) -> dict[int, Any]:
            return {z: e for z, (e, _) in workflow_table.current_states(conn, found[side].id, list(ids)).items()}

        return compare_tenants(listed["a"], listed["b"], load)


def _words(text: str) -> str:
    """As a page shows it: runs of white space (a tab in a name) as one space."""
    return " ".join(text.split())


def _compared(browsed: Browsed, query: str) -> Element:
    deadline = time.monotonic() + 60
    while True:
        tree = page(browsed.client, f"/compare?{query}")
        if tree.find_all(id="compare-counts") or time.monotonic() > deadline:
            return tree
        assert tree.find_all(id="compare-progress")
        time.sleep(0.2)  # the page itself refreshes every second; a test may ask sooner


def test_compare_shows_what_zuora_pipeline_compare_finds(browsed: Browsed) -> None:
    expected = _expected_comparison(browsed, "acme", "sandbox")
    assert expected.only_in_a and expected.only_in_b and expected.differing and expected.identical
    tree = _compared(browsed, "a=acme&b=sandbox")
    counts = [c.words() for c in tree.by_id("compare-counts").find_all("div", class_="card")]
    assert counts == [
        f"{len(expected.only_in_a)} only in acme",
        f"{len(expected.only_in_b)} only in sandbox",
        f"{len(expected.differing)} differing",
        f"{len(expected.identical)} identical",
    ]
    rows = tree.by_id("differing").rows()
    assert [(r[0], int(r[1]), int(r[2]), r[3]) for r in rows] == [
        (_words(p.a.name), p.a.zuora_id, p.b.zuora_id, _words(p.changes.summary())) for p in expected.differing
    ]
    assert _words(browsed.sandbox_edited) in [r[0] for r in rows]
    only_b = [link for _, link in tree.by_id("only-in-b").links()]
    assert only_b == [_words(w.name) for w in expected.only_in_b] and "Only in the sandbox" in only_b
    pair = next(p for p in expected.differing if p.a.name == browsed.sandbox_edited)
    hrefs = [href for href, _ in tree.by_id("differing").links()]
    assert f"/compare/pair?a=acme&b=sandbox&wa={pair.a.zuora_id}&wb={pair.b.zuora_id}" in hrefs
    side = page(browsed.client, f"/compare/pair?a=acme&b=sandbox&wa={pair.a.zuora_id}&wb={pair.b.zuora_id}")
    assert side.by_id("diff-summary").words() == _words(pair.changes.summary())
    assert "acme" in main_text(side) and "parameters.edited" in main_text(side)
    only = _compared(browsed, f"a=acme&b=sandbox&workflow={quote(browsed.sandbox_edited)}")
    assert only.by_id("differing").rows()[0][0] == _words(browsed.sandbox_edited)


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("a=acme", 400, "choose two customers, a and b"),
        ("a=acme&b=acme", 400, "choose two different customers"),
        ("a=acme&b=nobody", 404, "there is no customer named 'nobody'"),
        ("a=acme&b=sandbox&workflow=no%20such%20workflow", 404, "neither acme nor sandbox has a live workflow named"),
    ],
)
def test_bad_input_on_the_compare_page(browsed: Browsed, query: str, status: int, says: str) -> None:
    if status == 404 and "workflow=" in query:
        _compared(browsed, "a=acme&b=sandbox")  # started; this one is quick and shown as a 404
        deadline = time.monotonic() + 30
        while browsed.client.get(f"/compare?{query}").status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert says in main_text(page(browsed.client, f"/compare?{query}", status))


def test_compare_pair_bad_input(browsed: Browsed) -> None:
    assert "wa (a workflow id of customer a)" in main_text(
        page(browsed.client, "/compare/pair?a=acme&b=sandbox&wa=x&wb=1", 400)
    )
    assert "has no workflow 1" in main_text(page(browsed.client, "/compare/pair?a=acme&b=sandbox&wa=1&wb=1", 404))


def test_search_groups_hits_and_shows_each_match(browsed: Browsed) -> None:
    needle = "xss.example.com/hook"
    with browsed.engine.connect() as conn:
        expected = search(conn, needle)
    assert expected
    tree = page(browsed.client, f"/search?q={quote(needle)}")
    hits = tree.find_all("ul", class_="hits")
    shown = [li for ul in hits for li in ul.find_all("li")]
    assert len(shown) == len(expected)
    text = main_text(tree)
    assert f"{len(expected)} task" in tree.by_id("search-count").words()
    marks = [m.text() for m in tree.find_all("mark")]
    assert marks and all(m.lower() == needle for m in marks)
    snippet = shown[0].find_all("div", class_="snippet")[0].text()
    assert "parameters.url" in snippet and XSS_URL[:60] in snippet  # the tenant's text, as text
    assert [g.words().split(" ")[0] for g in tree.find_all("h2", class_="group-customer")] == sorted(
        {h.customer for h in expected}
    )
    assert "No task matches" in main_text(page(browsed.client, "/search?q=nothing-anywhere-at-all-42"))
    sandbox_only = page(browsed.client, f"/search?q={quote(needle)}&customer=sandbox")
    assert {g.words() for g in sandbox_only.find_all("h2", class_="group-customer")} == {"sandbox"}
    callouts = page(browsed.client, "/search?q=example.com&action_type=Callout")
    assert {b.text() for li in callouts.find_all("li") for b in li.find_all("span", class_="kind")} == {"Callout"}
    assert "there is no customer named 'nobody'" in main_text(page(browsed.client, "/search?q=x&customer=nobody", 404))
    assert "q is longer than 200 characters" in main_text(page(browsed.client, f"/search?q={'y' * 201}", 400))
    assert text


def test_a_common_text_shows_the_first_workflows_found_and_says_there_are_more(browsed: Browsed) -> None:
    with browsed.engine.connect() as conn:
        everything = search(conn, "example.com")
        found = first_workflows(conn, "example.com", workflows_wanted=3)
    workflows = {(h.customer, h.workflow_id) for h, _ in found.hits}
    assert found.more and len(workflows) == 3 and len({(h.customer, h.workflow_id) for h in everything}) > 3
    # Every task of those workflows that `search` finds, and nothing else.
    assert [h for h, _ in found.hits] == [h for h in everything if (h.customer, h.workflow_id) in workflows]
    with browsed.engine.connect() as conn:
        common = {(h.customer, h.workflow_id) for h in search(conn, "true")}
    assert len(common) > 50
    tree = page(browsed.client, "/search?q=true")
    assert "the matches in the first 50 workflows found; more workflows match" in main_text(tree)
    assert len(tree.find_all("section", class_="hit-group")) == 50


def test_changes_page_filters_and_pages(browsed: Browsed) -> None:
    with browsed.engine.connect() as conn:
        logged = history.changes(conn, customer_ids=None, since=None)
    tree = page(browsed.client, "/changes?since=30d")
    rows = tree.by_id("changes").rows()
    assert len(rows) == min(100, len(logged))
    assert [(r[1], r[3].split()[0]) for r in rows] == [(c.customer, c.change) for c in logged[:100]]
    deleted = page(browsed.client, "/changes?since=30d&change=deleted").by_id("changes").rows()
    assert [(r[1], r[2]) for r in deleted] == [
        (c.customer, _words(f"{c.workflow_name} {c.workflow_id}")) for c in logged if c.change == "deleted"
    ]
    mine = page(browsed.client, "/changes?since=30d&customer=sandbox").by_id("changes").rows()
    assert {r[1] for r in mine} == {"sandbox"}
    updated = page(browsed.client, "/changes?change=updated")
    (link,) = [href for href, text in updated.by_id("changes").links() if "/diff?" in href]
    assert link.endswith(f"/workflows/{browsed.edited}/diff?from=1&to=2")
    assert "No changes since 2200-01-01" in main_text(page(browsed.client, "/changes?since=2200-01-01"))
    if len(logged) <= 100:
        assert "page 2 of the changes is empty" in main_text(page(browsed.client, "/changes?since=30d&page=2", 404))
    for query, says in (
        ("change=renamed", "change must be one of"),
        ("since=soon", "since:"),
        ("page=zero", "the page number must be a whole number"),
    ):
        assert says in main_text(page(browsed.client, f"/changes?{query}", 400))
    assert "there is no customer named" in main_text(page(browsed.client, "/changes?customer=nobody", 404))
