"""The download's export check (``export_task_ids``) accepts and refuses exactly what
``parse_export`` does, with the same errors, and skips ExportModel for the clean shape."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from zuora_pipeline.zuora import ExportModel, ExportTask, ExportWorkflow, Linkage, ZuoraValidationError, models
from zuora_pipeline.zuora.models import export_task_ids, parse_export
from zuora_pipeline_tests.fixtures.openapi import spec_example

CLEAN: dict[str, Any] = {
    "workflow": {
        "id": 10_003,
        "name": "Renewals",
        "description": "",
        "type": "Workflow::Setup",
        "version": "0.0.1",
        "status": None,
        "priority": "Medium",
        "call_type": None,
        "ondemand_trigger": True,
        "callout_trigger": False,
        "scheduled_trigger": False,
        "sync_trigger": False,
        "interval": None,
        "timezone": "UTC",
        "delete_ttl": 60,
        "parameters": {"fields": []},
        "css": {"top": "40px"},
        "data": {},
    },
    "tasks": [
        {
            "id": 31,
            "name": "Query accounts",
            "action_type": "Query",
            "call_type": None,
            "object": "Account",
            "object_id": "ab12",
            "task_id": None,
            "priority": "Medium",
            "parameters": {"zoql": "select Id from Account"},
            "tags": ["a"],
            "css": {"top": "160px"},
            "concurrent_limit": 9_999_999,
            "assignment": [],
            "status": None,
        },
        {"id": 32, "task_id": 31, "name": "Email", "action_type": "Email"},
        {"id": 31, "name": "the same id again"},
    ],
    "linkages": [
        {"source_workflow_id": 10_003, "source_task_id": None, "target_task_id": 31, "linkage_type": "Start"},
        {"source_task_id": 31, "target_task_id": 32, "linkage_type": "Success"},
    ],
    "workflow_definition": {"name": "kept as an extra key"},
}

# JSON values that ExportModel coerces, refuses or treats as unset, for any field of any type.
TRICKY: list[object] = [None, "", "  ", "7", "abc", "1.5", 7, 7.0, 7.5, 10**20, True, False, [], ["x"], {}, {"k": 1}]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path of the document, down to two levels inside lists (the fields the models know)."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            if len(prefix) < 3:
                yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from _paths(child, (*prefix, index))


def _variants() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in _paths(CLEAN):
        for replacement in [*TRICKY, _DELETE]:
            doc = copy.deepcopy(CLEAN)
            parent = doc
            for step in path[:-1]:
                parent = parent[step]
            if replacement is _DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
            yield f"{'.'.join(map(str, path))}={replacement!r}", doc
    for whole in TRICKY:
        yield f"(root)={whole!r}", whole  # type: ignore[misc]


_DELETE = object()


def _full(doc: Any) -> list[int]:
    return [task.id for task in parse_export(copy.deepcopy(doc), workflow_id=5, endpoint="GET /x").tasks]


def _fast(doc: Any) -> list[int]:
    return export_task_ids(doc, workflow_id=5, endpoint="GET /x")


def _outcome(check: Any, doc: Any) -> tuple[str, object]:
    try:
        return "ok", check(doc)
    except ZuoraValidationError as err:
        return "error", (str(err), err.field, err.workflow_id)


def test_the_check_agrees_with_parse_export_on_every_variant() -> None:
    checked = 0
    for label, doc in _variants():
        assert _outcome(_fast, doc) == _outcome(_full, doc), label
        checked += 1
    assert checked > 500


def test_the_spec_example_passes_the_check() -> None:
    data = spec_example("zuora-workflows-api-openapi.yml", "/workflows/{workflow_id}/export")
    assert export_task_ids(data, workflow_id=1) == [t.id for t in parse_export(data, workflow_id=1).tasks]


def test_a_clean_export_builds_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kw: object) -> None:
        raise AssertionError("ExportModel built for a clean export")

    monkeypatch.setattr(models, "parse_export", refuse)
    assert export_task_ids(CLEAN, workflow_id=1) == [31, 32, 31]


def test_a_coerced_export_still_goes_through_the_model() -> None:
    doc = copy.deepcopy(CLEAN)
    doc["tasks"][0]["id"] = "31"  # a numeric string: ExportModel accepts it as 31
    doc["tasks"][1]["object_id"] = 123  # kept as text by ExportModel
    assert export_task_ids(doc, workflow_id=1) == [31, 32, 31]


def test_the_check_knows_every_field_of_the_models() -> None:
    """A field added to the models must be added to the check, or the check would let through
    a value the model refuses."""

    def fields(schema: Any) -> dict[str, Any]:
        return dict(schema["fields"])

    def inner(field: Any) -> Any:
        schema = field["schema"]
        schema = schema.get("schema", schema)  # nullable
        return schema.get("items_schema", schema)  # list

    top = fields(models._STRICT_EXPORT_SCHEMA)
    assert set(top) == set(ExportModel.model_fields)
    assert set(fields(inner(top["workflow"]))) == set(ExportWorkflow.model_fields)
    assert set(fields(inner(top["tasks"]))) == set(ExportTask.model_fields)
    assert set(fields(inner(top["linkages"]))) == set(Linkage.model_fields)
