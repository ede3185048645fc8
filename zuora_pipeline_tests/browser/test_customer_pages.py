"""The customers page and a customer's workflows: what they show equals the warehouse and the
simulator's truth; search, filters, sort on every column and pages; bad input is a 400/404 page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import customers, workflows
from zuora_pipeline_tests.browser.conftest import DAGSTER_URL, Browsed
from zuora_pipeline_tests.browser.support import main_text, page


def _live(browsed: Browsed, customer: str) -> dict[int, dict[str, Any]]:
    return {zid: item for zid, item in browsed.truth(customer).items() if zid != browsed.deleted or customer != "acme"}


def test_customers_page_shows_state_freshness_and_counts(browsed: Browsed) -> None:
    tree = page(browsed.client, "/customers")
    rows = {row[0].split()[0]: row for row in tree.by_id("customers").rows()}
    assert set(rows) == {"acme", "sandbox", "frozen"}
    for name in ("acme", "sandbox"):
        truth = browsed.truth(name)
        tasks = sum(len(item["export"]["tasks"]) for item in truth.values() if item["export"])
        status, _last, freshness, count, task_count, error, dagster = rows[name][1:]
        assert (status, freshness, count, task_count, error) == ("active", "fresh", str(len(truth)), f"{tasks:,}", "-")
        assert dagster == "partition"
    assert rows["frozen"][1] == "paused paused by an operator"
    assert rows["frozen"][2].startswith("- never")
    assert rows["frozen"][4:6] == ["0", "0"]
    assert 'Sandbox <copy> & "test"' in rows["sandbox"][0]
    links = dict(tree.by_id("customers").links())
    assert f"{DAGSTER_URL}/assets/zuora/workflows?view=partitions&partition=acme" in links
    assert "/customers/acme" in links
    assert "3 customers" in main_text(tree)


def test_home_redirects_to_the_customers(browsed: Browsed) -> None:
    response = browsed.client.get("/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/customers"


def _ids(browsed: Browsed, query: str) -> list[int]:
    tree = page(browsed.client, f"/customers/acme?size=200&{query}")
    found = tree.find_all("table", id="workflows")
    return [int(row[0]) for row in found[0].rows()] if found else []


def _stored(browsed: Browsed) -> list[sa.Row]:
    with browsed.engine.connect() as conn:
        customer_id = conn.execute(sa.select(customers.c.id).where(customers.c.name == "acme")).scalar_one()
        return list(conn.execute(sa.select(workflows).where(workflows.c.customer_id == customer_id)))


def test_workflows_sort_on_every_column_both_ways(browsed: Browsed) -> None:
    stored = [r for r in _stored(browsed) if r.deleted_at is None]
    truth = browsed.truth("acme")
    tasks = {zid: len(item["export"]["tasks"]) if item["export"] else None for zid, item in truth.items()}
    keys = {
        "id": lambda r: r.zuora_id,
        "name": lambda r: r.name,
        "state": lambda r: r.state,
        "version": lambda r: r.active_version,
        "tasks": lambda r: tasks[r.zuora_id],
        "created": lambda r: r.created_on,
        "updated": lambda r: r.updated_on,
    }
    for sort, key in keys.items():
        for direction in ("asc", "desc"):
            present = sorted((r for r in stored if key(r) is not None), key=lambda r: r.zuora_id)
            present.sort(key=key, reverse=direction == "desc")  # stable: ties stay in id order
            expected = [r.zuora_id for r in present] + sorted(r.zuora_id for r in stored if key(r) is None)
            assert _ids(browsed, f"sort={sort}&dir={direction}") == expected, (sort, direction)


def test_workflows_search_and_filters(browsed: Browsed) -> None:
    stored = _stored(browsed)
    live = {r.zuora_id: r for r in stored if r.deleted_at is None}
    assert sorted(_ids(browsed, "sort=id")) == sorted(live)
    assert browsed.deleted not in live and browsed.deleted in _ids(browsed, "sort=id&deleted=1")
    some = live[browsed.edited]
    assert set(_ids(browsed, f"q={quote(some.name)}")) == {z for z, r in live.items() if some.name in r.name}
    assert _ids(browsed, f"q={some.zuora_id}") == [some.zuora_id]
    described = next(r for r in live.values() if r.description and len(r.description) > 5)
    fragment = described.description[1:6]
    assert set(_ids(browsed, f"q={quote(fragment)}")) == {
        z
        for z, r in live.items()
        if fragment.lower() in r.name.lower() or fragment.lower() in (r.description or "").lower()
    }
    assert set(_ids(browsed, "state=Inactive")) == {z for z, r in live.items() if r.state == "Inactive"}
    for trigger, key in (("scheduled", "scheduledTrigger"), ("callout", "calloutTrigger")):
        expected = {z for z, r in live.items() if r.list_entry.get(key) is True}
        assert expected and set(_ids(browsed, f"trigger={trigger}")) == expected
    newest = max(r.updated_on for r in live.values())
    since = newest.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    cut = datetime.fromisoformat(since).replace(tzinfo=UTC)
    assert set(_ids(browsed, f"since={since}")) == {z for z, r in live.items() if r.updated_on >= cut}
    assert _ids(browsed, "since=2200-01-01") == []
    assert "No workflow matches" in main_text(page(browsed.client, "/customers/acme?q=no-such-workflow-anywhere"))


def test_workflows_pages(browsed: Browsed) -> None:
    everything = _ids(browsed, "sort=id")
    first = page(browsed.client, "/customers/acme?sort=id&size=25")
    second = page(browsed.client, "/customers/acme?sort=id&size=25&page=2")
    shown = [int(r[0]) for r in first.by_id("workflows").rows()] + [int(r[0]) for r in second.by_id("workflows").rows()]
    assert shown == everything and len(everything) > 25
    assert "Page 2 of 2" in main_text(second)
    assert "does not exist: there are 2 page(s)" in main_text(
        page(browsed.client, "/customers/acme?size=25&page=3", 404)
    )


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("page=0", 400, "the page number must be a whole number"),
        ("page=-1", 400, "the page number must be a whole number"),
        ("page=abc", 400, "not 'abc'"),
        ("page=99999999999999999999999", 400, "the page number must be a whole number"),
        ("page=999999", 404, "page 999,999 does not exist"),
        ("size=7", 400, "size must be one of 25, 50, 100, 200"),
        ("sort=password", 400, "sort must be one of"),
        ("dir=sideways", 400, "dir must be one of asc, desc"),
        ("trigger=telepathy", 400, "trigger must be one of"),
        ("since=yesterday-ish", 400, "since: 'yesterday-ish': use 30m, 12h, 7d, 2w or an ISO date"),
        ("deleted=maybe", 400, "deleted must be one of"),
        ("state=Paused", 400, "state must be one of , Active, Inactive"),
        (f"q={'x' * 300}", 400, "q is longer than 200 characters"),
    ],
)
def test_bad_input_on_the_workflows_page(browsed: Browsed, query: str, status: int, says: str) -> None:
    text = main_text(page(browsed.client, f"/customers/acme?{query}", status))
    assert says in text and "Traceback" not in text


def test_an_unknown_customer_is_a_404(browsed: Browsed) -> None:
    assert "there is no customer named 'nobody'" in main_text(page(browsed.client, "/customers/nobody", 404))
    assert "there is no customer named" in main_text(page(browsed.client, "/customers/%3Cscript%3E", 404))
