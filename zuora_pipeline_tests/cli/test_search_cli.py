"""``search`` finds a callout URL planted in the simulator in every tenant that has it, and only
there (real HTTP sync, PostgreSQL and SQLite)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from zuora_pipeline.cli import main
from zuora_pipeline.warehouse.schema import workflows

PLANTED = "https://Leak.Example.com/v1/hook_%_x"


def _search(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(main, ["search", *args, "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def _plant(admin: Any, tenant: str, workflow_ids: list[int]) -> set[tuple[int, int]]:
    truth = admin.truth(tenant)
    planted = set()
    for zid in workflow_ids:
        export = copy.deepcopy(truth[zid]["export"])
        task = export["tasks"][-1]
        task["parameters"]["url"] = PLANTED
        admin.set_export(tenant, zid, export)
        planted.add((zid, task["id"]))
    return planted


@pytest.mark.parametrize("warehouse", ["postgresql", "sqlite"])
def test_search_finds_the_planted_url_in_every_tenant_that_has_it(
    request: pytest.FixtureRequest, warehouse: str, sim_tenant: Any
) -> None:
    pipeline = request.getfixturevalue("pipeline" if warehouse == "postgresql" else "sqlite_pipeline")
    admin = pipeline.simulator.admin
    expected: set[tuple[str, int, int]] = set()
    names = []
    for number, planted_in in enumerate((2, 1, 0)):
        tenant = sim_tenant(workflows=6, tasks=4, seed=number + 1)
        with_tasks = [
            zid for zid, item in sorted(admin.truth(tenant.name).items()) if item["export"] and item["export"]["tasks"]
        ]
        name = pipeline.add_customer(tenant)
        names.append(name)
        expected |= {(name, zid, tid) for zid, tid in _plant(admin, tenant.name, with_tasks[:planted_in])}
        assert pipeline.sync(name).success

    code, found = _search("leak.example.com/v1/HOOK_%_")  # case-insensitive; % and _ are literal
    assert code == 0
    assert {(h["customer"], h["workflow_id"], h["task_id"]) for h in found["hits"]} == expected
    assert all(h["matched"] == ["parameters.url"] for h in found["hits"])

    code, only = _search(PLANTED, "--customer", names[1])
    assert code == 0 and {h["customer"] for h in only["hits"]} == {names[1]}
    code, none = _search(PLANTED, "--customer", names[2])
    assert code == 1 and none["hits"] == []
    code, typed = _search(PLANTED, "--action-type", "No::SuchType")
    assert code == 1 and typed["hits"] == []

    # A soft-deleted workflow is not live: its tasks are not found.
    gone_customer, gone_workflow, _ = sorted(expected)[0]
    with pipeline.engine.begin() as conn:
        conn.execute(
            sa.update(workflows)
            .where(
                workflows.c.customer_id == pipeline.customer(gone_customer).id, workflows.c.zuora_id == gone_workflow
            )
            .values(deleted_at=sa.func.current_timestamp())
        )
    code, after = _search(PLANTED)
    assert {(h["customer"], h["workflow_id"], h["task_id"]) for h in after["hits"]} == {
        e for e in expected if e[:2] != (gone_customer, gone_workflow)
    }


def test_search_by_task_name_and_empty_text(pipeline: Any, sim_tenant: Any) -> None:
    tenant = sim_tenant(workflows=4, tasks=3)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    some_task = next(t for row in pipeline.rows(name).values() for t in row["tasks"].values())
    code, found = _search(some_task["name"].upper())
    assert code == 0
    assert any(h["task_id"] == some_task["zuora_id"] and "name" in h["matched"] for h in found["hits"])
    empty = CliRunner().invoke(main, ["search", "  "])
    assert empty.exit_code == 2 and "non-empty" in empty.output
