"""A warehouse for the browser's tests, built the real way: simulator tenants synced by the Dagster
job into a PostgreSQL database of this module's own, then edited in the simulator and synced again.

``browsed`` (module scope) holds:
  - ``acme``: 40 workflows x ~8 tasks (one without tasks, one without an active version), plus a
    workflow planted with script-like name, task names and parameters (``planted``); one workflow
    edited after the first sync (``edited``: revisions 1 and 2) and one deleted (``deleted``);
  - ``sandbox``: a copy of acme's tenant made before those edits, where one workflow was edited
    (``sandbox_edited``, by name), one deleted and one added;
  - ``frozen``: a customer paused by an operator, never synced;
and ``client``, a Starlette TestClient of the browser over a read-only engine. ``sync(customer)``
syncs a customer again (after an edit in the simulator).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from zuora_pipeline.browser.app import create_app
from zuora_pipeline.crypto import new_key
from zuora_pipeline.runs.inprocess import register_customer, run_sync
from zuora_pipeline.warehouse import customers, migrate
from zuora_pipeline.warehouse.engine import create_warehouse_engine
from zuora_pipeline.warehouse.readonly import create_readonly_engine
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.fixtures.warehouse import PG_SERVER

XSS_NAME = "<img src=x onerror=alert(1)> & </script><script>alert('name')</script>"
XSS_TASK = "</script><script>window.__xss = 'task'</script>"
XSS_URL = 'https://xss.example.com/hook?a=<b>&c="d"<svg onload=alert(3)>'
LIQUID = "{{ Data.Account.Name | escape }} {% if x %}<b>bold</b>{% endif %}"
DAGSTER_URL = "https://dagster.example.com"


@dataclass
class Browsed:
    url: str
    engine: sa.Engine  # read-write, for the tests' own expectations
    client: TestClient
    app: Any  # the browser's ASGI app behind ``client``
    admin: Any
    instance: dg.DagsterInstance
    tenants: dict[str, str]  # customer -> simulator tenant
    planted: int
    edited: int
    deleted: int
    sandbox_edited: str  # the workflow name edited in the sandbox only

    def truth(self, customer: str) -> dict[int, dict[str, Any]]:
        return self.admin.truth(self.tenants[customer])

    def sync(self, customer: str) -> None:
        outcome = run_sync(self.instance, self.engine, customer)
        assert outcome.success, outcome.error


@pytest.fixture(scope="module")
def scratch_pg() -> Iterator[str]:
    name = f"zp_browse_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def plant(export: dict[str, Any]) -> dict[str, Any]:
    """Script-like text in the places a tenant controls: task names, parameters, the description."""
    planted = copy.deepcopy(export)
    planted["workflow"]["description"] = XSS_NAME
    first, second = planted["tasks"][0], planted["tasks"][1]
    first["name"] = XSS_TASK
    first["parameters"] = {"url": XSS_URL, "body": XSS_NAME, "template": LIQUID}
    second["name"] = XSS_NAME
    return planted


def edit(export: dict[str, Any]) -> dict[str, Any]:
    """A parameter of the first task, the name of the second, and the priority."""
    edited = copy.deepcopy(export)
    edited["tasks"][0]["parameters"]["edited"] = "https://audit.example.com/hook"
    edited["tasks"][1]["name"] = f"{edited['tasks'][1]['name']} (edited)"
    edited["workflow"]["priority"] = "High" if edited["workflow"]["priority"] != "High" else "Low"
    return edited


@pytest.fixture(scope="module")
def browsed(simulator: Any, scratch_pg: str) -> Iterator[Browsed]:
    admin = simulator.admin
    engine = create_warehouse_engine(scratch_pg)
    migrate.upgrade(engine)
    stem = uuid.uuid4().hex[:6]
    prod = admin.create_tenant(f"browse-acme-{stem}", workflows=40, tasks=8, seed=3)
    planted = admin.add_workflow(prod.name, tasks=4, name=XSS_NAME)
    admin.set_export(prod.name, planted, plant(admin.truth(prod.name)[planted]["export"]))
    sandbox = admin.copy_tenant(prod.name, f"browse-sandbox-{stem}")
    truth = admin.truth(sandbox.name)
    multi = sorted(zid for zid, item in truth.items() if item["export"] and len(item["export"]["tasks"]) >= 3)
    # Not the first of them: acme edits its own first one below.
    sandbox_edited = truth[multi[1]]["list_item"]["name"]
    admin.set_export(sandbox.name, multi[1], edit(truth[multi[1]]["export"]))
    admin.delete_workflow(sandbox.name, multi[2])
    admin.add_workflow(sandbox.name, tasks=3, name="Only in the sandbox")
    host = urlsplit(simulator.base_url)
    with pytest.MonkeyPatch.context() as env, dg.instance_for_test() as instance:
        env.setenv("ZUORA_PIPELINE_DATABASE_URL", scratch_pg)
        env.setenv("ZUORA_PIPELINE_SECRET_KEY", new_key())
        env.setenv("ZUORA_PIPELINE_ALLOWED_HOSTS", f"{host.hostname}:{host.port}")
        tenants = {"acme": prod, "sandbox": sandbox, "frozen": prod}
        for name, tenant in tenants.items():
            register_customer(
                instance,
                engine,
                name=name,
                base_url=simulator.base_url,
                client_id=tenant.client_id,
                client_secret=tenant.client_secret,
            )
        for name in ("acme", "sandbox"):
            outcome = run_sync(instance, engine, name)
            assert outcome.success, outcome.error
        # After the first sync: an edit and a deletion in acme, then a second sync.
        truth = admin.truth(prod.name)
        mine = sorted(
            zid
            for zid, item in truth.items()
            if item["export"] and len(item["export"]["tasks"]) >= 3 and zid != planted
        )
        edited, deleted = mine[0], mine[-1]
        admin.set_export(prod.name, edited, edit(truth[edited]["export"]))
        admin.delete_workflow(prod.name, deleted)
        outcome = run_sync(instance, engine, "acme")
        assert outcome.success, outcome.error
        with write_transaction(engine) as conn:
            customers.update(conn, "frozen", sync_status="paused", paused_reason="paused by an operator")
            customers.update(conn, "sandbox", display_name='Sandbox <copy> & "test"')
        readonly = create_readonly_engine(scratch_pg)
        app = create_app(readonly, dagster_url=DAGSTER_URL)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Browsed(
                url=scratch_pg,
                engine=engine,
                client=client,
                app=app,
                admin=admin,
                instance=instance,
                tenants={name: tenant.name for name, tenant in tenants.items()},
                planted=planted,
                edited=edited,
                deleted=deleted,
                sandbox_edited=sandbox_edited,
            )
        readonly.dispose()
    engine.dispose()
