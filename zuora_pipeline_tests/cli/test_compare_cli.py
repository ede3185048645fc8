"""``compare`` of two simulator tenants over real HTTP: a copy of a tenant is identical to it
(exit 0), and a copy with planted differences reports exactly those (exit 1)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

from click.testing import CliRunner

from zuora_pipeline.cli import main


def _compare(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(main, ["compare", *args, "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def _register(pipeline: Any, info: Any) -> str:
    name = pipeline.add_customer(info)
    outcome = pipeline.sync(name)
    assert outcome.success, outcome.error
    return name


def test_compare_reports_exactly_the_planted_differences(
    pipeline: Any, sim_tenant: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    admin = pipeline.simulator.admin
    production = sim_tenant(workflows=12, tasks=5)
    prod = _register(pipeline, production)
    twin = _register(pipeline, admin.copy_tenant(production.name, f"{production.name}-twin"))

    code, same = _compare(prod, twin)
    assert code == 0, same
    assert same["identical"] and same["counts"]["identical"] == 12
    assert same["only_in_a"] == same["only_in_b"] == same["differing"] == []

    sandbox_info = admin.copy_tenant(production.name, f"{production.name}-sbx")
    truth = admin.truth(sandbox_info.name)
    names = Counter(item["list_item"]["name"] for item in truth.values())
    candidates = [
        zid
        for zid, item in sorted(truth.items())
        if names[item["list_item"]["name"]] == 1 and item["export"] and len(item["export"]["tasks"]) >= 2
    ]
    param_wf, added_wf, deleted_wf, settings_wf = candidates[:4]
    name_of = {zid: truth[zid]["list_item"]["name"] for zid in candidates[:4]}

    export = copy.deepcopy(truth[param_wf]["export"])
    export["tasks"][1]["parameters"]["planted"] = "sandbox-only"
    changed_task = export["tasks"][1]["name"]
    admin.set_export(sandbox_info.name, param_wf, export)

    export = copy.deepcopy(truth[added_wf]["export"])
    last = export["tasks"][-1]
    added = copy.deepcopy(last) | {"id": last["id"] + 1000, "name": "Sandbox extra step", "task_id": last["id"]}
    export["tasks"].append(added)
    export["linkages"].append(
        {
            "source_workflow_id": None,
            "source_task_id": last["id"],
            "target_task_id": added["id"],
            "linkage_type": "Success",
        }
    )
    admin.set_export(sandbox_info.name, added_wf, export)

    admin.delete_workflow(sandbox_info.name, deleted_wf)

    export = copy.deepcopy(truth[settings_wf]["export"])
    export["workflow"]["timezone"] = "Pacific/Auckland"
    admin.set_export(sandbox_info.name, settings_wf, export)

    admin.add_workflow(sandbox_info.name, tasks=2, name="Only in the sandbox")
    sandbox = _register(pipeline, sandbox_info)

    code, report = _compare(prod, sandbox)
    assert code == 1
    assert not report["identical"]
    assert [w["name"] for w in report["only_in_a"]] == [name_of[deleted_wf]]
    assert [w["name"] for w in report["only_in_b"]] == ["Only in the sandbox"]
    assert report["counts"] == {"only_in_a": 1, "only_in_b": 1, "identical": 8, "differing": 3}
    differing = {d["name"]: d["changes"] for d in report["differing"]}
    assert set(differing) == {name_of[param_wf], name_of[added_wf], name_of[settings_wf]}

    param = differing[name_of[param_wf]]
    assert param["counts"] == {
        "tasks_added": 0,
        "tasks_removed": 0,
        "tasks_changed": 1,
        "linkages_changed": 0,
        "settings_changed": 0,
    }
    assert param["tasks_changed"][0]["new"]["name"] == changed_task
    assert param["tasks_changed"][0]["fields"] == [
        {"field": "parameters.planted", "change": "added", "old": None, "new": "sandbox-only"}
    ]

    extra = differing[name_of[added_wf]]
    assert [t["name"] for t in extra["tasks_added"]] == ["Sandbox extra step"]
    assert extra["tasks_removed"] == [] and extra["tasks_changed"] == [] and extra["settings"] == []
    assert [(link["target"], link["linkage_type"]) for link in extra["linkages_added"]] == [
        (f"Sandbox extra step [{added['action_type']}]", "Success")
    ]

    settings = differing[name_of[settings_wf]]
    assert [s["field"] for s in settings["settings"]] == ["timezone"]
    assert settings["settings"][0]["new"] == "Pacific/Auckland"
    assert settings["tasks_changed"] == [] and settings["tasks_added"] == []

    code, one = _compare(prod, sandbox, "--workflow", name_of[settings_wf])
    assert code == 1 and one["counts"] == {"only_in_a": 0, "only_in_b": 0, "identical": 0, "differing": 1}


def test_compare_errors_exit_2(pipeline: Any, sim_tenant: Any) -> None:
    name = _register(pipeline, sim_tenant(workflows=2, tasks=1))
    result = CliRunner().invoke(main, ["compare", name, "nobody"])
    assert result.exit_code == 2 and "no customer named 'nobody'" in result.output


def test_compare_of_a_workflow_name_neither_has_is_an_error(pipeline: Any, sim_tenant: Any) -> None:
    """Not "0 identical, 0 differing" and exit 0, which a script reads as "the same"."""
    tenant_a = sim_tenant(workflows=3, tasks=1)
    pipeline.simulator.admin.add_workflow(tenant_a.name, tasks=2, name="Only in A")
    a = _register(pipeline, tenant_a)
    b = _register(pipeline, sim_tenant(workflows=3, tasks=1))

    for extra in ([], ["--json"]):
        result = CliRunner().invoke(main, ["compare", a, b, "--workflow", "no such wf", *extra])
        assert result.exit_code == 2 and result.stdout == ""
        assert result.stderr.splitlines() == [
            f"Error: no live workflow is named 'no such wf' in {a} or {b} (the name must match exactly)"
        ]

    # A name only one of them has is an answer: only in that one.
    code, report = _compare(a, b, "--workflow", "Only in A")
    assert code == 1 and [w["name"] for w in report["only_in_a"]] == ["Only in A"]
