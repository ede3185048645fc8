"""A workflow's pages: fields and tasks, the export (the download is the stored export byte for
byte), the diagram (every task, changes marked), the history and the diff of two revisions, each
equal to what the warehouse, the simulator and ``workflows diff`` say; bad input is a 400/404."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from zuora_pipeline.audit.files import canonical_json
from zuora_pipeline.browser.templating import pretty
from zuora_pipeline.logic.workflow_diff import diff_states
from zuora_pipeline.warehouse import change_log, customers, history
from zuora_pipeline.warehouse.schema import raw_workflow_exports
from zuora_pipeline_tests.browser.conftest import XSS_NAME, Browsed
from zuora_pipeline_tests.browser.support import fetch, main_text, page


def _url(browsed: Browsed, zid: int, tab: str = "", customer: str = "acme") -> str:
    return f"/customers/{customer}/workflows/{zid}{'/' + tab if tab else ''}"


def _customer_id(browsed: Browsed, name: str = "acme") -> int:
    with browsed.engine.connect() as conn:
        return customers.get(conn, name).id


def _without_export(browsed: Browsed) -> int:
    return next(zid for zid, item in browsed.truth("acme").items() if item["export"] is None)


def test_overview_shows_fields_triggers_and_every_task_with_its_parameters(browsed: Browsed) -> None:
    item = browsed.truth("acme")[browsed.edited]
    export, listed = item["export"], item["list_item"]
    tree = page(browsed.client, _url(browsed, browsed.edited))
    text = main_text(tree)
    assert listed["name"] in text and f"Zuora id {browsed.edited}" in text
    triggers = [
        name
        for name, key in (
            ("callout", "calloutTrigger"),
            ("ondemand", "ondemandTrigger"),
            ("scheduled", "scheduledTrigger"),
        )
        if listed[key]
    ]
    assert f"Triggers {' '.join(triggers) if triggers else 'none'}" in text
    assert f"Priority {export['workflow']['priority']}" in text
    tasks = tree.find_all("details", class_="task")
    assert [t.attrs["id"] for t in tasks] == [f"task-{t['id']}" for t in sorted(export["tasks"], key=lambda t: t["id"])]
    for task in export["tasks"]:
        shown = tree.by_id(f"params-{task['id']}").text()
        assert json.loads(shown) == task["parameters"] and shown == pretty(task["parameters"])
        assert task["name"] in tree.by_id(f"task-{task['id']}").words()
    kind = export["tasks"][0]["action_type"]
    filtered = page(browsed.client, f"{_url(browsed, browsed.edited)}?action_type={quote(kind)}")
    expected = sorted(f"task-{t['id']}" for t in export["tasks"] if t["action_type"] == kind)
    assert sorted(str(t.attrs["id"]) for t in filtered.find_all("details", class_="task")) == expected


def test_export_download_is_the_stored_export_byte_for_byte(browsed: Browsed) -> None:
    with browsed.engine.connect() as conn:
        stored = conn.execute(
            sa.select(raw_workflow_exports.c.content).where(
                raw_workflow_exports.c.customer_id == _customer_id(browsed),
                raw_workflow_exports.c.zuora_id == browsed.edited,
            )
        ).scalar_one()
    response = fetch(browsed.client, _url(browsed, browsed.edited, "export.json"))
    assert response.content == stored.encode()
    assert response.headers["content-type"] == "application/json"
    name = browsed.truth("acme")[browsed.edited]["list_item"]["name"]
    # The name with what no file name may hold (control characters and / \ : * ? " < > |) as _.
    safe = re.sub(r'[\x00-\x1f/\\:*?"<>|]+', "_", name)
    assert f"filename*=UTF-8''{quote(safe + '.json', safe='')}" in response.headers["content-disposition"]
    tree = page(browsed.client, _url(browsed, browsed.edited, "export"))
    assert tree.by_id("export-json").text() == pretty(json.loads(stored))
    assert tree.by_id("download").attrs["href"] == _url(browsed, browsed.edited, "export.json")
    # An older revision: its export as kept in the history, in canonical form.
    with browsed.engine.connect() as conn:
        _, first, _ = history.revision_state(conn, _customer_id(browsed), browsed.edited, 1)
    old = fetch(browsed.client, _url(browsed, browsed.edited, "export.json") + "?revision=1")
    assert old.content == canonical_json(first) and old.content != response.content
    older = page(browsed.client, _url(browsed, browsed.edited, "export") + "?revision=1")
    assert str(older.by_id("download").attrs["href"]).endswith("export.json?revision=1")


def test_a_workflow_without_an_export(browsed: Browsed) -> None:
    blank = _without_export(browsed)
    assert "no export" in main_text(page(browsed.client, _url(browsed, blank, "export")))
    assert "nothing to draw" in main_text(page(browsed.client, _url(browsed, blank, "diagram")))
    assert "has no export" in main_text(page(browsed.client, _url(browsed, blank, "export.json"), 404))
    assert "no export, no tasks" in main_text(page(browsed.client, _url(browsed, blank)))


def test_diagram_draws_every_task_and_marks_the_changes(browsed: Browsed) -> None:
    export = browsed.truth("acme")[browsed.edited]["export"]
    tree = page(browsed.client, _url(browsed, browsed.edited, "diagram"))
    (svg,) = tree.find_all("svg", class_="diagram")
    texts = {t.text() for t in svg.find_all("text")}
    assert {t["name"] for t in export["tasks"]} <= texts
    assert any(f"acme · {browsed.truth('acme')[browsed.edited]['list_item']['name']}" in t for t in texts)
    node_ids = {g.find_all("title")[0].text() for g in svg.find_all("g", class_="node")}
    panels = {p.attrs["id"] for p in tree.find_all("section", class_="task-panel")}
    assert panels == {f"panel-{n}" for n in node_ids if n != "start"}
    assert not svg.find_all("g", class_="changed")
    marked = page(browsed.client, _url(browsed, browsed.edited, "diagram") + "?revision=2&compare=1")
    (svg,) = marked.find_all("svg", class_="diagram")
    changed = {g.find_all("title")[0].text() for g in svg.find_all("g", class_="changed")}
    assert changed == {"t0", "t1"}  # the first task's parameter, the second's name
    assert "changed" in main_text(marked) and "2 tasks changed" in main_text(marked)


def test_history_lists_each_revision_with_what_changed(browsed: Browsed) -> None:
    tree = page(browsed.client, _url(browsed, browsed.edited, "history"))
    rows = tree.by_id("revisions").rows()
    assert [r[0].split()[0] for r in rows] == ["2", "1"]
    with browsed.engine.connect() as conn:
        logged = {c.change: c for c in change_log.of_workflow(conn, _customer_id(browsed), browsed.edited)}
    assert rows[0][7] == f"updated {logged['updated'].summary}"
    assert rows[1][7] == f"created {logged['created'].summary}"
    links = dict(tree.by_id("revisions").links())
    assert _url(browsed, browsed.edited, "diff") + "?from=1&to=2" in links
    assert [r[1] for r in tree.by_id("change-log").rows()] == ["updated", "created"]


def test_diff_of_two_revisions_is_the_cli_diff(browsed: Browsed) -> None:
    with browsed.engine.connect() as conn:
        _, old, old_state = history.revision_state(conn, _customer_id(browsed), browsed.edited, 1)
        _, new, new_state = history.revision_state(conn, _customer_id(browsed), browsed.edited, 2)
    changes = diff_states(old, new, old_state=old_state, new_state=new_state)
    tree = page(browsed.client, _url(browsed, browsed.edited, "diff"))
    assert tree.by_id("diff-summary").words() == changes.summary()
    text = main_text(tree)
    for change in changes.tasks_changed:
        for field in change.fields:
            assert field.field in text
    assert "parameters.edited" in text and '"https://audit.example.com/hook"' in text
    backwards = page(browsed.client, _url(browsed, browsed.edited, "diff") + "?from=2&to=1")
    assert (
        backwards.by_id("diff-summary").words()
        == diff_states(new, old, old_state=new_state, new_state=old_state).summary()
    )
    single = next(z for z in browsed.truth("acme") if z not in (browsed.edited, browsed.deleted))
    assert "only revision 1" in main_text(page(browsed.client, _url(browsed, single, "diff")))


@pytest.mark.parametrize(
    ("suffix", "status", "says"),
    [
        ("/customers/acme/workflows/abc", 400, "a workflow id (its Zuora id) must be a whole number"),
        ("/customers/acme/workflows/0", 400, "must be a whole number of at least 1"),
        ("/customers/acme/workflows/99999999999999999999999999", 400, "must be a whole number"),
        ("/customers/acme/workflows/424242", 404, "customer acme has no workflow 424242"),
        ("/customers/nobody/workflows/1", 404, "there is no customer named 'nobody'"),
        ("/customers/acme/workflows/{edited}/export?revision=9", 404, "has no revision 9"),
        ("/customers/acme/workflows/{edited}/export.json?revision=x", 400, "the revision must be a whole number"),
        ("/customers/acme/workflows/{edited}/diagram?compare=77", 404, "has no revision 77"),
        ("/customers/acme/workflows/{edited}/diagram?revision=-2", 400, "the revision must be a whole number"),
        ("/customers/acme/workflows/{edited}/diff?from=5", 404, "has no revision 5"),
        ("/customers/acme/workflows/{edited}/diff?to=1.5", 400, "the newer revision must be a whole number"),
        ("/customers/acme/workflows/{edited}/nothing-here", 404, "there is no page at"),
    ],
)
def test_bad_input_on_workflow_pages(browsed: Browsed, suffix: str, status: int, says: str) -> None:
    text = main_text(page(browsed.client, suffix.format(edited=browsed.edited), status))
    assert says in text and "Traceback" not in text


def test_a_workflow_of_another_customer_is_not_found_here(browsed: Browsed) -> None:
    sandbox_only = max(browsed.truth("sandbox"))
    assert sandbox_only not in browsed.truth("acme")
    page(browsed.client, _url(browsed, sandbox_only, customer="acme"), 404)
    page(browsed.client, _url(browsed, sandbox_only, customer="sandbox"))


def test_the_planted_workflow_is_shown_as_text(browsed: Browsed) -> None:
    for tab in ("", "export", "diagram", "history"):
        response = fetch(browsed.client, _url(browsed, browsed.planted, tab))
        assert "<img src=x" not in response.text and "<script>alert" not in response.text
        tree = page(browsed.client, _url(browsed, browsed.planted, tab))
        assert not tree.find_all("img")
        scripts = tree.find_all("script")
        assert [s.attrs.get("src") for s in scripts] == ["/static/app.js"] and not scripts[0].text().strip()
        assert tree.find_all("h1")[0].text() == XSS_NAME


def test_every_attribute_is_ours(browsed: Browsed) -> None:
    """No inline event handler, style or javascript: URL anywhere, whatever the tenant wrote."""
    for url in (
        _url(browsed, browsed.planted),
        _url(browsed, browsed.planted, "diagram"),
        _url(browsed, browsed.planted, "export"),
        "/search?q=xss.example.com",
        "/customers/acme?q=img",
    ):
        for element in page(browsed.client, url).walk():
            for name, value in element.attrs.items():
                assert not name.startswith("on") and name != "style", (url, element.tag, name)
                assert not (value or "").strip().lower().startswith("javascript:"), (url, element.tag, name)
