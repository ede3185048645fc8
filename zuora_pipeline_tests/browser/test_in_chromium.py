"""The workflow browser in a real Chromium (Playwright driving Debian's ``/usr/bin/chromium``), over
HTTP from a real uvicorn server, walking what a user does: from the customers page to a customer,
search a workflow, open it, see its diagram with every task's name, open a task, download the JSON
(byte for byte the stored export), see the history after an edit in the simulator and a re-sync,
open the diff, compare two tenants, search a callout URL. A workflow planted with script-like
names and parameters is shown as text and nothing of it runs. Screenshots of each step, light and
dark, are kept in the test's tmp directory."""

from __future__ import annotations

import copy
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from playwright.sync_api import expect, sync_playwright

from zuora_pipeline.logic.workflow_diff import diff_states
from zuora_pipeline.warehouse import customers, history
from zuora_pipeline.warehouse.schema import raw_workflow_exports
from zuora_pipeline_tests.browser.conftest import XSS_NAME, XSS_TASK, XSS_URL, Browsed

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000


@pytest.fixture
def served(browsed: Browsed) -> Iterator[str]:
    """The browser's app on a real HTTP server on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The TestClient already runs the app's lifespan; this server only serves requests.
    server = uvicorn.Server(
        uvicorn.Config(browsed.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    while not server.started and thread.is_alive():
        started.wait(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _stored(browsed: Browsed, zid: int) -> bytes:
    with browsed.engine.connect() as conn:
        customer = customers.get(conn, "acme")
        content = conn.execute(
            sa.select(raw_workflow_exports.c.content).where(
                raw_workflow_exports.c.customer_id == customer.id, raw_workflow_exports.c.zuora_id == zid
            )
        ).scalar_one()
    return str(content).encode()


def _view_box(svg: Any) -> list[float]:
    return [float(v) for v in str(svg.get_attribute("viewBox")).split()]


def _renamed_and_retuned(export: dict[str, Any]) -> dict[str, Any]:
    edited = copy.deepcopy(export)
    edited["tasks"][2]["name"] = "Renamed in Zuora"
    edited["tasks"][2]["parameters"]["timeout"] = "999"
    return edited


@pytest.mark.browser
def test_a_user_walks_the_browser_in_chromium(browsed: Browsed, served: str, tmp_path: Path) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it)")
    zid = browsed.edited
    item = browsed.truth("acme")[zid]
    name, export = item["list_item"]["name"], item["export"]
    shown_name = " ".join(name.split())  # a tab in a name is shown as a space
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        dialogs: list[str] = []
        errors: list[str] = []
        console: list[str] = []

        def on_dialog(dialog: Any) -> None:  # an alert() from planted text would land here
            dialogs.append(dialog.message)
            dialog.dismiss()

        def on_console(message: Any) -> None:
            if message.type in ("error", "warning"):
                console.append(message.text)

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", on_console)

        def shot(step: str) -> None:
            page.screenshot(path=tmp_path / f"{step}.png", full_page=False)

        try:
            # -- from the customers page to a customer, a search, a workflow --------------------
            page.goto(f"{served}/customers")
            expect(page.locator("#customers")).to_contain_text("sandbox")
            shot("01-customers")
            page.locator("#customers").get_by_role("link", name="acme", exact=True).click()
            expect(page).to_have_url(f"{served}/customers/acme")
            page.get_by_label("Search", exact=True).fill(name)
            page.get_by_role("button", name="Apply").click()
            expect(page.locator("#workflows")).to_contain_text(shown_name)
            shot("02-workflow-search")
            page.locator(f'#workflows a[href="/customers/acme/workflows/{zid}"]').first.click()
            expect(page.locator("h1")).to_have_text(shown_name)
            shot("03-workflow")

            # -- the diagram: every task's name; zoom and fit; a click on a task shows it -------
            page.get_by_role("link", name="Diagram", exact=True).click()
            svg = page.locator("#viewport svg")
            expect(svg).to_be_visible()
            drawn = svg.locator("text").all_text_contents()
            assert {t["name"] for t in export["tasks"]} <= set(drawn)
            home = _view_box(svg)
            page.get_by_role("button", name="Zoom in").click()
            assert _view_box(svg)[2] < home[2]  # a narrower view: zoomed in
            page.get_by_role("button", name="Fit").click()
            assert _view_box(svg) == home
            svg.locator("g.node:has(> title:text-is('t2'))").click()
            panel = page.locator("#panel-t2")
            expect(panel).to_be_visible()
            expect(panel.locator("h3")).to_have_text(export["tasks"][2]["name"])
            shot("04-diagram-task")
            panel.get_by_role("link", name="Open in the task list").click()
            task = page.locator(f"#task-{export['tasks'][2]['id']}")
            expect(task).to_have_attribute("open", "")
            expect(task.locator("pre .j-key").first).to_be_visible()  # parameters highlighted
            shot("05-task")

            # -- the export: highlighted, copied, downloaded byte for byte ------------------------
            page.get_by_role("link", name="Export", exact=True).click()
            expect(page.locator("#export-json .j-str").first).to_be_visible()
            page.get_by_role("button", name="Copy JSON").click()
            expect(page.get_by_role("button", name="Copied")).to_be_visible()
            assert page.evaluate("navigator.clipboard.readText()") == page.locator("#export-json").text_content()
            with page.expect_download() as info:
                page.get_by_role("link", name="Download").click()
            download = info.value
            assert Path(download.path()).read_bytes() == _stored(browsed, zid)
            assert download.suggested_filename.endswith(".json")
            shot("06-export")

            # -- an edit in Zuora, a re-sync, the history and the diff ---------------------------
            before = browsed.truth("acme")[zid]["export"]
            browsed.admin.set_export(browsed.tenants["acme"], zid, _renamed_and_retuned(before))
            browsed.sync("acme")
            page.get_by_role("link", name="History", exact=True).click()
            expect(page.locator("#revisions tbody tr")).to_have_count(3)
            shot("07-history")
            page.locator("#revisions tbody tr").first.get_by_role("link", name="diff").click()
            with browsed.engine.connect() as conn:
                owner = customers.get(conn, "acme").id
                _, old, old_state = history.revision_state(conn, owner, zid, 2)
                _, new, new_state = history.revision_state(conn, owner, zid, 3)
            expected = diff_states(old, new, old_state=old_state, new_state=new_state)
            expect(page.locator("#diff-summary")).to_have_text(expected.summary())
            expect(page.locator("main")).to_contain_text("Renamed in Zuora")
            shot("08-diff")
            page.get_by_role("link", name="See it on the diagram").click()
            expect(svg.locator("g.node.changed")).to_have_count(len(expected.tasks_changed))
            shot("09-diagram-changes")

            # -- two tenants compared, a differing pair side by side -----------------------------
            page.locator("nav.mainnav").get_by_role("link", name="Compare").click()
            page.get_by_label("A (e.g. sandbox)").select_option("sandbox")
            page.get_by_label("B (e.g. production)").select_option("acme")
            page.get_by_role("button", name="Compare").click()
            expect(page.locator("#compare-counts")).to_be_visible(timeout=60_000)
            expect(page.locator("#only-in-a")).to_contain_text("Only in the sandbox")
            shot("10-compare")
            page.locator("#differing").get_by_role("link", name="side by side").first.click()
            expect(page.locator("#diff-summary")).to_be_visible()
            shot("11-side-by-side")

            # -- a callout URL searched from the top bar -----------------------------------------
            page.get_by_label("Search tasks").fill("audit.example.com/hook")
            page.get_by_label("Search tasks").press("Enter")
            expect(page.locator("#search-count")).to_contain_text("task")
            expect(page.locator("mark").first).to_have_text("audit.example.com/hook")
            shot("12-search")

            # -- the planted workflow: shown as text, nothing runs ------------------------------
            planted = f"{served}/customers/acme/workflows/{browsed.planted}"
            for tab in ("", "/export", "/diagram", "/history"):
                page.goto(planted + tab)
                expect(page.locator("h1")).to_have_text(" ".join(XSS_NAME.split()))
                assert page.evaluate("window.__xss === undefined && document.images.length === 0")
                shot(f"13-planted{tab.replace('/', '-') or '-overview'}")
            page.goto(planted)
            expect(page.locator("main")).to_contain_text(XSS_TASK)
            page.goto(f"{served}/search?q={XSS_URL[8:30]}")
            expect(page.locator(".snippet").first).to_contain_text(XSS_URL[:40])
            assert page.evaluate("window.__xss === undefined && document.images.length === 0")
            shot("14-planted-search")
            assert dialogs == [] and errors == [], (dialogs, errors)
            assert not [m for m in console if "Content Security Policy" in m], console
        finally:
            shot("last")
        # -- the same pages in the dark theme -----------------------------------------------------
        dark = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme="dark")
        for step, path in (
            ("15-dark-customer", "/customers/acme"),
            ("16-dark-diagram", f"/customers/acme/workflows/{zid}/diagram"),
        ):
            dark.goto(served + path)
            background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
            assert (
                re.fullmatch(r"rgb\((\d+), (\d+), (\d+)\)", background)
                and sum(int(v) for v in re.findall(r"\d+", background)) < 100
            ), background
            dark.screenshot(path=tmp_path / f"{step}.png")
        browser.close()
