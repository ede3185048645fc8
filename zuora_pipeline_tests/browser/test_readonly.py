"""The browser's engine cannot write: a read-only transaction on PostgreSQL, a file opened read-only
on SQLite. And the browser works on SQLite too (a real sync into a SQLite warehouse)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from zuora_pipeline.browser.app import create_app
from zuora_pipeline.warehouse.readonly import create_readonly_engine
from zuora_pipeline.warehouse.schema import raw_workflow_exports
from zuora_pipeline_tests.browser.conftest import Browsed
from zuora_pipeline_tests.browser.support import fetch, page

INSERT = sa.text(
    "INSERT INTO customers (name, base_url, client_id, client_secret_encrypted) VALUES ('x', 'https://x', 'x', 'x')"
)


def test_postgresql_sessions_are_read_only(browsed: Browsed) -> None:
    engine = create_readonly_engine(browsed.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW transaction_read_only")).scalar() == "on"
            assert conn.execute(sa.text("SHOW default_transaction_read_only")).scalar() == "on"
            with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
                conn.execute(INSERT)
        for statement in ("UPDATE workflows SET name = 'x'", "DELETE FROM tasks", "CREATE TABLE t (x int)"):
            with engine.connect() as conn, pytest.raises(sa.exc.InternalError, match="read-only transaction"):
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_sqlite_is_opened_read_only(sqlite_engine: sa.Engine) -> None:
    engine = create_readonly_engine(sqlite_engine.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA query_only")).scalar() == 1
            with pytest.raises(sa.exc.OperationalError, match="readonly"):
                conn.execute(INSERT)
        with engine.connect() as conn:  # even with query_only turned off, the file is read-only
            conn.execute(sa.text("PRAGMA query_only = OFF"))
            with pytest.raises(sa.exc.OperationalError, match="readonly database"):
                conn.execute(sa.text("DELETE FROM customers"))
    finally:
        engine.dispose()


def _counts(client: TestClient, name: str) -> tuple[str, str]:
    row = next(r for r in page(client, "/customers").by_id("customers").rows() if r[0].split()[0] == name)
    return row[4], row[5]


def test_every_page_works_on_sqlite(sqlite_pipeline: Any, sim_tenant: Any, tmp_path: Path) -> None:
    harness = sqlite_pipeline
    tenant = sim_tenant(workflows=8, tasks=4)
    a, b = harness.add_customer(tenant), harness.add_customer(sim_tenant(workflows=8, tasks=4))
    for name in (a, b):
        assert harness.sync(name).success
    url = harness.engine.url.render_as_string(hide_password=False)
    engine = create_readonly_engine(url)
    rows = harness.rows(a)
    zid = next(z for z, r in rows.items() if r["json_export"] and r["json_export"]["tasks"])
    with harness.engine.connect() as conn:
        stored = conn.execute(
            sa.select(raw_workflow_exports.c.content).where(raw_workflow_exports.c.zuora_id == zid).limit(1)
        ).scalar_one()
    with TestClient(create_app(engine), raise_server_exceptions=False) as client:
        for path in (
            "/customers",
            f"/customers/{a}?sort=tasks&dir=desc&trigger=ondemand",
            f"/customers/{a}/workflows/{zid}",
            f"/customers/{a}/workflows/{zid}/export",
            f"/customers/{a}/workflows/{zid}/diagram",
            f"/customers/{a}/workflows/{zid}/history",
            f"/customers/{a}/workflows/{zid}/diff",
            "/search?q=example.com",
            "/changes",
            f"/compare?a={a}&b={b}",
        ):
            page(client, path)
        assert fetch(client, f"/customers/{a}/workflows/{zid}/export.json").content == stored.encode()
        # The counts the page keeps follow the next sync that changes the customer's workflows.
        truth = harness.simulator.admin.truth(tenant.name)
        assert _counts(client, a) == (
            str(len(truth)),
            str(sum(len(i["export"]["tasks"]) for i in truth.values() if i["export"])),
        )
        harness.simulator.admin.delete_workflow(tenant.name, zid)
        assert harness.sync(a).success
        tasks_left = sum(len(i["export"]["tasks"]) for z, i in truth.items() if i["export"] and z != zid)
        assert _counts(client, a) == (str(len(truth) - 1), str(tasks_left))
    engine.dispose()
