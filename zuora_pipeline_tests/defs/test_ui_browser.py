"""What an operator does in the Dagster UI, in a real Chromium (Playwright driving Debian's
``/usr/bin/chromium``) against a real ``dagster dev`` on a fresh instance with the repository's
development dagster.yaml:

- Materialize one customer's whole sync: the four assets of the ``zuora`` group selected in the
  catalog, Materialize, one partition picked;
- a backfill over all customers (Materialize all -> All), one run of several customers, where
  one customer is paused (it makes no Zuora call and is left as it was) and one has credentials
  Zuora refuses (its partition fails, the others are materialized, and it alone alerts once, by
  email and webhook, to local receivers);
- the Checks tab showing each customer's own result.

Screenshots of each step are saved in the test's tmp directory.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright

from zuora_pipeline.crypto import SecretBox, new_key
from zuora_pipeline.dagster_instance import ensure_instance_config
from zuora_pipeline.warehouse import customers, migrate
from zuora_pipeline.warehouse.engine import get_engine
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.defs.reliability.support import receiver
from zuora_pipeline_tests.fixtures.dagster_dev import DagsterDev, dagster_dev, wait_until
from zuora_pipeline_tests.fixtures.receivers import smtp_inbox

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SYNC_ASSETS = ("workflow_pages", "workflow_exports", "workflows", "workflow_tasks")
HEALTHY = ("acme", "globex")
PAUSED = "frozen"
BAD = "badco"
ALL = (*HEALTHY, PAUSED, BAD)
UI_TIMEOUT_MS = 60_000

RUNS = """
query Runs($customer: String!) {
  runsOrError(filter: {tags: [{key: "dagster/partition", value: $customer}]}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}"""
BACKFILL_RUNS = """
query Runs($backfill: String!) {
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $backfill}]}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}"""
BACKFILLS = """
{ partitionBackfillsOrError { ... on PartitionBackfills { results { id status } } } }"""


def _runs(server: DagsterDev, customer: str) -> list[dict[str, Any]]:
    return server.gql(RUNS, {"customer": customer})["runsOrError"]["results"]


def _finished(server: DagsterDev, customer: str, count: int) -> list[str] | None:
    statuses = [r["status"] for r in _runs(server, customer)]
    done = [s for s in statuses if s in ("SUCCESS", "FAILURE", "CANCELED")]
    return done if len(statuses) >= count and len(done) == len(statuses) else None


@pytest.fixture
def ui(simulator: Any, sim_tenant: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it)")
    home = tmp_path / "dagster_home"
    ensure_instance_config(home)
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    key = new_key()
    tenants = {name: sim_tenant(workflows=12, tasks=2) for name in (*HEALTHY, PAUSED)}
    box = SecretBox(key)
    with write_transaction(engine) as conn:
        for name, tenant in tenants.items():
            customers.add(
                conn,
                name=name,
                base_url=simulator.base_url,
                client_id=tenant.client_id,
                client_secret_encrypted=box.encrypt(tenant.client_secret),
            )
        customers.add(
            conn,
            name=BAD,
            base_url=simulator.base_url,
            client_id=tenants["acme"].client_id,
            client_secret_encrypted=box.encrypt("not-the-secret"),
        )
    # The partitions exist before the services start: the onboarding sensor launches nothing.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions("customers", list(ALL))
    with receiver() as hook, smtp_inbox() as inbox:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "ZUORA_PIPELINE_DATABASE_URL": url,
            "ZUORA_PIPELINE_SECRET_KEY": key,
            "ZUORA_PIPELINE_ALLOWED_HOSTS": simulator.base_url.split("://", 1)[1].rstrip("/"),
            "ZUORA_PIPELINE_ALERT_SMTP_HOST": "127.0.0.1",
            "ZUORA_PIPELINE_ALERT_SMTP_PORT": str(inbox.port),
            "ZUORA_PIPELINE_ALERT_SMTP_TO": "ops@example.com",
            "ZUORA_PIPELINE_ALERT_WEBHOOK_URL": f"{hook.base_url}/hook",
        }
        cli = str(Path(sys.executable).with_name("zuora-pipeline"))
        paused = subprocess.run(
            [cli, "customers", "pause", PAUSED], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert paused.returncode == 0, paused.stderr
        with dagster_dev(REPO, env, tmp_path / "dagster_dev.log") as server:
            yield {
                "server": server,
                "hook": hook,
                "inbox": inbox,
                "tenants": tenants,
                "shots": tmp_path,
                "home": home,
            }
    engine.dispose()


@pytest.mark.browser
def test_materialize_backfill_alerts_and_checks_in_chromium(ui: dict[str, Any], simulator: Any) -> None:
    server: DagsterDev = ui["server"]
    shots: Path = ui["shots"]
    tenants = ui["tenants"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(UI_TIMEOUT_MS)
        try:
            # -- Materialize one customer's whole sync ------------------------------------------
            page.goto(f"{server.base_url}/assets")
            page.get_by_text("zuora / workflow_pages").first.wait_for()
            _dismiss_community_dialog(page)
            for asset in SYNC_ASSETS:
                page.locator(f"label:has([data-testid='checkbox-zuora/{asset}'])").click()
            page.get_by_role("button", name="Materialize selected").click()
            page.get_by_text("Select a partition or create one").click()
            page.locator(".dagster-popover").get_by_text("acme", exact=True).first.click()
            page.keyboard.press("Escape")
            page.screenshot(path=shots / "1-materialize-acme.png")
            page.get_by_role("button", name="Launch 1 run").click()
            page.get_by_text("Launched run").wait_for()
            assert wait_until(lambda: _finished(server, "acme", 1), 180, "acme's run") == ["SUCCESS"]
            (run,) = _runs(server, "acme")
            assert run["tags"] and {"key": "dagster/partition", "value": "acme"} in run["tags"]

            # -- Backfill over all customers ----------------------------------------------------
            simulator.admin.reset_stats()
            page.goto(f"{server.base_url}/locations/zuora_pipeline/asset-groups/zuora")
            _dismiss_community_dialog(page)
            page.get_by_role("button", name="Materialize all").click()
            page.get_by_role("button", name="All", exact=True).click()
            page.locator(".bp5-dialog").get_by_text(f"{len(ALL)} partitions").wait_for()
            page.screenshot(path=shots / "2-backfill-all.png")
            page.get_by_role("button", name="Launch backfill").click()
            page.get_by_text("Created backfill").wait_for()
            backfill = wait_until(lambda: _backfill_id_or_none(server), 60, "the backfill")

            def backfill_done() -> list[dict[str, Any]] | None:
                runs = server.gql(BACKFILL_RUNS, {"backfill": backfill})["runsOrError"]["results"]
                finished = all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs)
                return runs if runs and finished else None

            # One run of the four customers (the backfill policy's range); it fails for the bad one.
            (backfill_run,) = wait_until(backfill_done, 240, "the backfill's run")
            tags = {t["key"]: t["value"] for t in backfill_run["tags"]}
            assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
                ALL[0],
                ALL[-1],
            )
            assert backfill_run["status"] == "FAILURE"
            with dg.DagsterInstance.from_config(str(ui["home"])) as instance:
                status = instance.get_status_by_partition(
                    dg.AssetKey(["zuora", "workflow_tasks"]),
                    list(ALL),
                    dg.DynamicPartitionsDefinition(name="customers"),
                )
            materialized, failed = dg.AssetPartitionStatus.MATERIALIZED, dg.AssetPartitionStatus.FAILED
            assert {k: status[k] for k in (*HEALTHY, BAD)} == {
                "acme": materialized,
                "globex": materialized,
                BAD: failed,
            }
            # The paused customer was not synced (no Zuora call, below). Dagster counts a partition
            # planned in a failed run and not materialized as failed, whatever the reason.
            assert status[PAUSED] == failed
            page.goto(f"{server.base_url}/runs/b/{backfill}?tab=runs")
            page.get_by_text("Failure").first.wait_for()
            page.screenshot(path=shots / "3-backfill-run.png")
            # Each customer's own status on the asset's Partitions tab.
            page.goto(f"{server.base_url}/assets/zuora/workflow_tasks?view=partitions")
            page.get_by_text(BAD, exact=True).first.wait_for()
            page.screenshot(path=shots / "3-backfill-partitions.png")

            # The paused customer made no Zuora call: no token was asked for, nothing in flight.
            stats = simulator.admin.stats()
            assert tenants[PAUSED].name not in stats["tokens_issued"], stats
            assert tenants[PAUSED].name not in stats["max_in_flight"], stats
            assert stats["tokens_issued"].get(tenants["globex"].name, 0) >= 1

            # The bad customer alerted once, on both channels; nobody else did.
            wait_until(lambda: ui["inbox"].for_customer(BAD), 120, "the bad customer's email")
            # The webhook is posted after the email: wait for it too.
            wait_until(lambda: ui["hook"].requests, 60, "the bad customer's webhook")
            posts = [json.loads(r.body) for r in ui["hook"].requests]
            assert [p["customer"] for p in posts] == [BAD], posts
            assert posts[0]["launched_by"].startswith("backfill ")
            assert len(ui["inbox"].messages) == 1 and "not-the-secret" not in ui["inbox"].raw[0].decode()

            # -- The Checks tab: each customer's own result --------------------------------------
            _assert_checks_per_customer(page, server, shots)
        finally:
            page.screenshot(path=shots / "last.png")
            browser.close()


def _backfill_id_or_none(server: DagsterDev) -> str | None:
    results = server.gql(BACKFILLS)["partitionBackfillsOrError"]["results"]
    return str(results[0]["id"]) if results else None


def _backfill_id(server: DagsterDev) -> str:
    (backfill,) = server.gql(BACKFILLS)["partitionBackfillsOrError"]["results"]
    return str(backfill["id"])


def _dismiss_community_dialog(page: Any) -> None:
    """The first visit shows a 'Join the Dagster community' dialog over the page."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=3000)
    except PlaywrightTimeoutError:  # no dialog this time
        return
    skip.click()


def _assert_checks_per_customer(page: Any, server: DagsterDev, shots: Path) -> None:
    """`customer_active` on workflow_pages, evaluated per customer partition: the two healthy
    customers pass, the paused one fails (a warning naming why), the bad one's evaluation
    failed with its run; each partition shows its own latest result."""
    page.goto(f"{server.base_url}/assets/zuora/workflow_pages?view=checks")
    _dismiss_community_dialog(page)
    page.get_by_text("customer_active").first.click()
    page.get_by_role("tab", name="Partitions").last.click()
    counts = page.get_by_text(re.compile(r"^(Passed|Failed|Execution Failed|Skipped|Missing) \(\d+\)$"))
    counts.first.wait_for()
    page.screenshot(path=shots / "4-checks-per-customer.png")
    shown = {re.sub(r"\s+", " ", t).strip() for t in counts.all_inner_texts()}
    assert {"Passed (2)", "Failed (1)", "Execution Failed (1)", "Skipped (0)", "Missing (0)"} <= shown, shown
    expected = {
        "acme": ("Passed", "customer\nacme"),
        "globex": ("Passed", "customer\nglobex"),
        PAUSED: ("Failed", f"paused: paused by an operator; run `zuora-pipeline customers resume {PAUSED}`"),
        BAD: ("Execution failed", "No metadata"),
    }
    for customer, (status, detail) in expected.items():
        page.get_by_text(customer, exact=True).filter(visible=True).last.click()

        def details(name: str = customer) -> str | None:
            # The details pane follows the partition list and starts with the selected name.
            text = page.locator("#root").inner_text()
            pane = text.rsplit(f"{name}\n{name}\n", 1)[-1]
            return pane if "Latest execution" in pane else None

        pane = wait_until(details, 30, f"the check's details for {customer}")
        page.screenshot(path=shots / f"5-check-{customer}.png")
        assert pane.splitlines()[0] == status, pane
        assert detail in pane, pane
