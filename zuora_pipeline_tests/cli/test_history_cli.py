"""History, diffs and the change log over real HTTP: sync, edit a workflow in the simulator, sync
again, then ``workflows history``, ``workflows diff`` and ``changes``."""

from __future__ import annotations

import copy
import json
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from zuora_pipeline.cli import main
from zuora_pipeline.warehouse.schema import workflow_changes, workflow_revisions, workflows
from zuora_pipeline_tests.fixtures.keys import WORKFLOWS


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _json(*args: str) -> tuple[int, Any]:
    result = _run(*args, "--json")
    return result.exit_code, json.loads(result.stdout)


def history_rows(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        revisions = conn.execute(sa.select(sa.func.count()).select_from(workflow_revisions)).scalar_one()
        changes = conn.execute(sa.select(sa.func.count()).select_from(workflow_changes)).scalar_one()
    return int(revisions), int(changes)


def edit_workflow(admin: Any, tenant: str, workflow_id: int) -> dict[str, Any]:
    """Change two tasks (a parameter of one, the name of another) and one setting; returns what
    was changed, for the assertions."""
    export = copy.deepcopy(admin.truth(tenant)[workflow_id]["export"])
    first, second = export["tasks"][0], export["tasks"][1]
    first["parameters"]["planted"] = "https://audit.example.com/hook"
    old_name = second["name"]
    second["name"] = f"{old_name} (edited)"
    old_priority = export["workflow"]["priority"]
    export["workflow"]["priority"] = "High" if old_priority != "High" else "Low"
    admin.set_export(tenant, workflow_id, export)
    return {
        "param_task": first["id"],
        "renamed_task": second["id"],
        "old_name": old_name,
        "old_priority": old_priority,
        "new_priority": export["workflow"]["priority"],
    }


def _materialization_metadata(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any]:
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
        materialization = record.asset_materialization
        if materialization is not None and materialization.asset_key == WORKFLOWS:
            return {key: value.value for key, value in materialization.metadata.items()}
    raise AssertionError("zuora/workflows was not materialized")


@pytest.mark.parametrize("warehouse", ["postgresql", "sqlite"])
def test_history_diff_and_changes_after_an_edit(
    request: pytest.FixtureRequest, warehouse: str, sim_tenant: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = request.getfixturevalue("pipeline" if warehouse == "postgresql" else "sqlite_pipeline")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    tenant = sim_tenant(workflows=8, tasks=6)
    name = pipeline.add_customer(tenant)
    admin = pipeline.simulator.admin
    first = pipeline.sync(name)
    assert first.success, first.error
    assert history_rows(pipeline.engine) == (8, 8)  # one revision and one "created" per workflow
    assert _materialization_metadata(pipeline.instance, first.run_id)["history_created"] == 8

    truth = admin.truth(tenant.name)
    workflow_id = next(zid for zid, item in truth.items() if item["export"] and len(item["export"]["tasks"]) >= 3)
    edited = edit_workflow(admin, tenant.name, workflow_id)
    second = pipeline.sync(name)
    assert second.success, second.error
    pipeline.assert_matches_truth(name, tenant.name)

    code, listed = _json("workflows", "history", name, str(workflow_id))
    assert code == 0
    assert [r["revision"] for r in listed["revisions"]] == [2, 1]
    assert [r["first_seen_run_id"] for r in listed["revisions"]] == [second.run_id, first.run_id]

    code, diff = _json("workflows", "diff", name, str(workflow_id))
    assert code == 1, "a diff that finds changes exits 1"
    assert (diff["from_revision"], diff["to_revision"]) == (1, 2)
    assert diff["settings"] == [
        {"field": "priority", "change": "changed", "old": edited["old_priority"], "new": edited["new_priority"]}
    ]
    assert diff["tasks_added"] == [] and diff["tasks_removed"] == []
    assert diff["linkages_added"] == [] and diff["linkages_removed"] == []
    changed = {c["new"]["id"]: c["fields"] for c in diff["tasks_changed"]}
    assert changed == {
        edited["param_task"]: [
            {"field": "parameters.planted", "change": "added", "old": None, "new": "https://audit.example.com/hook"}
        ],
        edited["renamed_task"]: [
            {"field": "name", "change": "changed", "old": edited["old_name"], "new": f"{edited['old_name']} (edited)"}
        ],
    }
    text = _run("workflows", "diff", name, str(workflow_id))
    assert "parameters.planted: (none) -> 'https://audit.example.com/hook'" in text.output

    code, log = _json("changes", "--customer", name, "--since", "1h")
    assert code == 0
    updates = [c for c in log["changes"] if c["change"] == "updated"]
    assert [(c["workflow_id"], c["revision"], c["previous_revision"], c["run_id"]) for c in updates] == [
        (workflow_id, 2, 1, second.run_id)
    ]
    assert updates[0]["summary"] == "2 tasks changed (name, parameters.planted); settings: priority"
    metadata = _materialization_metadata(pipeline.instance, second.run_id)
    assert (metadata["history_updated"], metadata["history_created"], metadata["history_revisions_added"]) == (1, 0, 1)
    assert "| workflow | change | summary |" in metadata["changes"]
    assert f"({workflow_id}) | updated | 2 tasks changed" in metadata["changes"]

    before = history_rows(pipeline.engine)
    third = pipeline.sync(name)
    assert third.success, third.error
    assert history_rows(pipeline.engine) == before, "an unchanged re-sync added history rows"
    code, listed = _json("workflows", "history", name, str(workflow_id))
    assert listed["revisions"][0]["last_seen_run_id"] == third.run_id


def test_deleted_and_restored_workflows_keep_their_history(pipeline: Any, sim_tenant: Any) -> None:
    tenant = sim_tenant(workflows=6, tasks=3)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    admin = pipeline.simulator.admin
    victim = sorted(admin.truth(tenant.name))[0]
    admin.delete_workflow(tenant.name, victim)
    deleting = pipeline.sync(name)
    assert deleting.success, deleting.error
    code, log = _json("changes", "--customer", name)
    assert [(c["workflow_id"], c["change"], c["run_id"]) for c in log["changes"] if c["change"] != "created"] == [
        (victim, "deleted", deleting.run_id)
    ]
    code, listed = _json("workflows", "history", name, str(victim))
    assert code == 0 and [r["revision"] for r in listed["revisions"]] == [1]


def test_errors_exit_2_with_one_line(pipeline: Any, sim_tenant: Any) -> None:
    tenant = sim_tenant(workflows=3, tasks=2)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    unknown = CliRunner().invoke(main, ["workflows", "diff", "nobody", "1"])
    assert unknown.exit_code == 2 and "no customer named 'nobody'" in unknown.output
    missing = CliRunner().invoke(main, ["workflows", "diff", name, "999999"])
    assert missing.exit_code == 2 and "is not in the history" in missing.output
    unknown_id = CliRunner().invoke(main, ["workflows", "history", name, "999999"])
    assert unknown_id.exit_code == 2
    assert unknown_id.stderr.splitlines() == [f"Error: workflow 999999 is not in the history of customer '{name}'"]
    single = CliRunner().invoke(main, ["workflows", "diff", name, str(next(iter(pipeline.rows(name))))])
    assert single.exit_code == 2 and "only revision 1" in single.output
    with pipeline.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(workflows)).scalar_one() == 3


def test_changes_are_limited_filtered_and_say_what_was_left_out(
    pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zuora_pipeline.cli import changes

    tenant = sim_tenant(workflows=6, tasks=1)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    victim = sorted(pipeline.simulator.admin.truth(tenant.name))[0]
    pipeline.simulator.admin.delete_workflow(tenant.name, victim)
    assert pipeline.sync(name).success
    monkeypatch.setattr(changes, "DEFAULT_LIMIT", 4)

    text = _run("changes", "--customer", name)
    rows = text.stdout.splitlines()
    assert len(rows) == 4 and rows[0].split()[2:6] == ["UTC", name, str(victim), "deleted"]
    assert text.stderr.splitlines() == [
        "3 older changes not shown (--limit 4; --limit 0 shows all, --change KIND keeps one kind)"
    ]
    assert len(_run("changes", "--customer", name, "--limit", "0").stdout.splitlines()) == 7

    code, everything = _json("changes", "--customer", name)  # --json: all unless --limit
    assert code == 0 and len(everything["changes"]) == 7 and everything["omitted"] == 0
    code, two = _json("changes", "--customer", name, "--limit", "2")
    assert len(two["changes"]) == 2 and two["omitted"] == 5

    code, deleted = _json("changes", "--customer", name, "--change", "DELETED")
    assert [(c["workflow_id"], c["change"]) for c in deleted["changes"]] == [(victim, "deleted")]
    code, kinds = _json("changes", "--customer", name, "--change", "deleted", "--change", "created")
    assert {c["change"] for c in kinds["changes"]} == {"created", "deleted"} and len(kinds["changes"]) == 7
    none = _run("changes", "--customer", name, "--change", "restored")
    assert none.stdout.startswith("no changes (restored) since ") and none.stdout.rstrip().endswith(" UTC")
    wrong = CliRunner().invoke(main, ["changes", "--change", "renamed"])
    assert wrong.exit_code == 2 and len(wrong.stderr.splitlines()) == 1
