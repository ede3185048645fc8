"""The diff and compare engines on hand-built exports (the simulator-backed tests are in cli/)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from zuora_pipeline.audit.compare import Listed, compare_tenants
from zuora_pipeline.logic.workflow_diff import diff_states


def _task(tid: int, name: str, action: str, parent: int | None = None, **parameters: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "name": name,
        "action_type": action,
        "task_id": parent,
        "css": {"top": "1px"},
        "parameters": parameters,
    }


def _export(wid: int, tasks: list[dict[str, Any]], links: list[tuple[int | None, int, str]], **settings: Any) -> dict:
    return {
        "workflow": {"id": wid, "name": "Dunning", "version": "0.0.1", "priority": "Medium", **settings},
        "tasks": tasks,
        "linkages": [
            {
                "source_workflow_id": wid if s is None else None,
                "source_task_id": s,
                "target_task_id": t,
                "linkage_type": k,
            }
            for s, t, k in links
        ],
    }


BASE = _export(
    1,
    [
        _task(10, "Find invoices", "Query", zoql="select Id from Invoice"),
        _task(11, "Overdue?", "If", 10, if_clause="{{x}} > 0"),
        _task(12, "Email customer", "Email", 11, to="a@example.com"),
        _task(13, "Log", "Callout", 11, url="https://x.example.com"),
    ],
    [(None, 10, "Start"), (10, 11, "Success"), (11, 12, "True"), (11, 13, "False")],
)


def _renumbered(export: dict, offset: int) -> dict:
    """The same workflow with every id moved: another tenant, or a newly published version."""
    moved = copy.deepcopy(export)
    moved["workflow"]["id"] += offset
    for task in moved["tasks"]:
        task["id"] += offset
        if task["task_id"] is not None:
            task["task_id"] += offset
    for link in moved["linkages"]:
        for key in ("source_task_id", "target_task_id", "source_workflow_id"):
            if link[key] is not None:
                link[key] += offset
    return moved


def test_identical_after_renumbering_and_canvas_moves() -> None:
    moved = _renumbered(BASE, 500)
    moved["tasks"][2]["css"] = {"top": "999px"}
    assert diff_states(BASE, moved, by_id=False).identical
    assert diff_states(BASE, moved, by_id=True).identical  # ids gone: graph position pairs them


def test_field_level_changes_additions_and_linkages() -> None:
    new = copy.deepcopy(BASE)
    new["tasks"][3]["parameters"]["url"] = "https://y.example.com"
    new["tasks"][1]["name"] = "Is it overdue?"
    new["tasks"].append(_task(14, "Wait", "Delay", 12, delay_seconds="60"))
    new["linkages"].append(
        {"source_workflow_id": None, "source_task_id": 12, "target_task_id": 14, "linkage_type": "Success"}
    )
    new["workflow"]["priority"] = "High"
    changes = diff_states(BASE, new, old_state="Active", new_state="Inactive")
    assert [(s.field, s.old, s.new) for s in changes.settings] == [
        ("priority", "Medium", "High"),
        ("status", "Active", "Inactive"),
    ]
    assert {c.new.id: [(f.field, f.old, f.new) for f in c.fields] for c in changes.tasks_changed} == {
        11: [("name", "Overdue?", "Is it overdue?")],
        13: [("parameters.url", "https://x.example.com", "https://y.example.com")],
    }
    assert [(t.name, t.position) for t in changes.tasks_added] == [("Wait", "Start > Success > True > Success")]
    assert [link.text() for link in changes.linkages_added] == ["Email customer [Email] -[Success]-> Wait [Delay]"]
    assert changes.tasks_removed == [] and changes.linkages_removed == []


def test_renamed_task_in_another_tenant_is_changed_not_replaced() -> None:
    other = _renumbered(BASE, 1000)
    other["tasks"][2]["name"] = "Email the customer"
    changes = diff_states(BASE, other, by_id=False)
    assert changes.tasks_added == [] and changes.tasks_removed == []
    assert [(f.field, f.new) for c in changes.tasks_changed for f in c.fields] == [("name", "Email the customer")]


def test_swapped_branch_is_a_linkage_change() -> None:
    other = copy.deepcopy(BASE)
    for link in other["linkages"]:
        if link["target_task_id"] in (12, 13):
            link["linkage_type"] = {"True": "False", "False": "True"}[link["linkage_type"]]
    changes = diff_states(BASE, other)
    assert changes.tasks_changed == []
    assert sorted(link.text() for link in changes.linkages_removed) == [
        "Overdue? [If] -[False]-> Log [Callout]",
        "Overdue? [If] -[True]-> Email customer [Email]",
    ]
    assert len(changes.linkages_added) == 2


def test_duplicate_names_pair_by_content() -> None:
    early, late = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
    variant = copy.deepcopy(BASE)
    variant["tasks"][0]["parameters"]["zoql"] = "select Id from Account"
    a = [Listed(1, "Dunning", "Active", early), Listed(2, "Dunning", "Active", late)]
    # In B the copies were created in the other order: content, not age, pairs them.
    b = [Listed(7, "Dunning", "Active", early), Listed(8, "Dunning", "Active", late)]
    exports = {("a", 1): BASE, ("a", 2): variant, ("b", 7): _renumbered(variant, 50), ("b", 8): _renumbered(BASE, 90)}
    result = compare_tenants(a, b, lambda side, ids: {i: exports[(side, i)] for i in ids})
    assert result.same
    assert sorted((p.a.zuora_id, p.b.zuora_id) for p in result.identical) == [(1, 8), (2, 7)]


def test_extra_duplicate_is_only_in_its_tenant() -> None:
    a = [Listed(1, "Dunning", None, None), Listed(2, "Dunning", None, None)]
    b = [Listed(9, "Dunning", None, None)]
    result = compare_tenants(a, b, lambda side, ids: dict.fromkeys(ids, BASE))
    assert [w.zuora_id for w in result.only_in_a] == [2]  # ties: the older (lower id) pairs first
    assert not result.same
