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
    return result.exit_code, json.loads(result.stdout)


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
    refused = CliRunner().invoke(main, ["search", PLANTED, "--action-type", "No::SuchType"])
    assert refused.exit_code == 2 and "'No::SuchType' is not an action type" in refused.stderr

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


def test_search_says_no_match_validates_action_types_and_finds_workflow_names(pipeline: Any, sim_tenant: Any) -> None:
    tenant = sim_tenant(workflows=5, tasks=3)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    runner = CliRunner()

    nothing = runner.invoke(main, ["search", "no-such-text-anywhere"])
    assert nothing.exit_code == 1 and nothing.stdout == ""
    assert nothing.stderr.splitlines() == ["no match for 'no-such-text-anywhere'"]
    as_json = runner.invoke(main, ["--log-format", "json", "search", "no-such-text-anywhere", "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["hits"] == []
    (record,) = [json.loads(line) for line in as_json.stderr.splitlines()]
    assert record["message"] == "no match for 'no-such-text-anywhere'"

    wrong = runner.invoke(main, ["search", "http", "--action-type", "Calout"])
    assert wrong.exit_code == 2 and wrong.stdout == ""
    (line,) = wrong.stderr.splitlines()
    assert "'Calout' is not an action type; one of: Approval, Attachment," in line and "Callout" in line

    rows = pipeline.rows(name)
    some_type = next(t["action_type"] for row in rows.values() for t in row["tasks"].values())
    code, typed = _search("e", "--action-type", some_type.swapcase())  # any case, spelled back as Zuora does
    assert code == 0 and {h["action_type"] for h in typed["hits"]} == {some_type}

    workflow_id, row = next(iter(sorted(rows.items())))
    code, named = _search(row["name"].swapcase())
    assert code == 0
    assert {
        "customer": name,
        "workflow_id": workflow_id,
        "workflow_name": row["name"],
        "task_id": None,
        "task_name": None,
        "action_type": None,
        "matched": ["workflow_name"],
    } in named["hits"]
    text = runner.invoke(main, ["search", row["name"]])
    assert f"{name}  {row['name']} ({workflow_id})  in workflow_name" in text.stdout.splitlines()

    # "truncated" only when hits were really left out.
    code, everything = _search("e")
    count = len(everything["hits"])
    code, exact = _search("e", "--limit", str(count))
    assert exact["truncated"] is False and exact["hits"] == everything["hits"]
    cut = runner.invoke(main, ["search", "e", "--limit", str(count - 1)])
    assert len(cut.stdout.splitlines()) == count - 1
    assert cut.stderr.splitlines() == [f"... stopped at {count - 1} hits (--limit)"]
