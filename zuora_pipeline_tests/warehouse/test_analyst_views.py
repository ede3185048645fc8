"""The analyst views answer the README's example queries on PostgreSQL and SQLite, and show no
hash, staging or secret column."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

README = Path(__file__).resolve().parents[2] / "README.md"
VIEWS = ("analyst_workflows", "analyst_tasks", "analyst_workflow_revisions", "analyst_workflow_changes")


def readme_queries() -> list[str]:
    section = README.read_text().split("## Analyst views", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


@pytest.mark.parametrize("warehouse", ["postgresql", "sqlite"])
def test_readme_queries_run_on_the_views(request: pytest.FixtureRequest, warehouse: str, sim_tenant: Any) -> None:
    pipeline = request.getfixturevalue("pipeline" if warehouse == "postgresql" else "sqlite_pipeline")
    tenant = sim_tenant(workflows=10, tasks=6)
    admin = pipeline.simulator.admin
    # The first query looks for callouts to hooks.example.com: plant one (generated data differs
    # with the tenants created before this test).
    generated = admin.truth(tenant.name)
    planted_id = next(z for z, item in sorted(generated.items()) if item["export"] and item["export"]["tasks"])
    planted = copy.deepcopy(generated[planted_id]["export"])
    task = planted["tasks"][-1]
    task["action_type"] = "Callout"
    task["parameters"] = {**(task.get("parameters") or {}), "url": "https://hooks.example.com/v1/planted"}
    admin.set_export(tenant.name, planted_id, planted)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    truth = admin.truth(tenant.name)
    zid = next(z for z, item in sorted(truth.items()) if item["export"] and item["export"]["tasks"])
    export = copy.deepcopy(truth[zid]["export"])
    export["tasks"][0]["name"] = "Renamed for the views"
    admin.set_export(tenant.name, zid, export)
    assert pipeline.sync(name).success

    queries = readme_queries()
    assert len(queries) == 3
    with pipeline.engine.connect() as conn:
        callers, changes, edited = (conn.execute(sa.text(q)).all() for q in queries)
        columns = {view: set(conn.execute(sa.text(f"SELECT * FROM {view}")).keys()) for view in VIEWS}
    live_callouts = {
        t["name"]
        for row in pipeline.rows(name).values()
        if row["deleted_at"] is None
        for t in row["tasks"].values()
        if t["action_type"] == "Callout" and "hooks.example.com" in str(t["data"])
    }
    assert live_callouts, "the tenant has no callout to hooks.example.com"
    assert {task for _, _, task in callers} == live_callouts
    assert {(c, kind): n for c, kind, n, _ in changes} == {(name, "created"): 10, (name, "updated"): 1}
    assert [(c, w, n) for c, w, n, _ in edited] == [(name, zid, 2)]
    for view, names in columns.items():
        assert not {c for c in names if "hash" in c or "secret" in c or "staging" in c}, view
