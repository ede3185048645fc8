"""``field_changes`` reports every key, however little two objects share, and skips DeepDiff only
for objects equal in value and type."""

from __future__ import annotations

from typing import Any

from zuora_pipeline.logic.workflow_diff import diff_states, field_changes


def test_objects_sharing_few_keys_are_compared_key_by_key() -> None:
    old = {"name": "Bill run", "priority": "Medium", "interval": "0 0 * * *", "timezone": "Sydney", "status": "Active"}
    new = {"status": "Inactive"}
    changes = field_changes(old, new, frozenset())
    assert {(c.field, c.change) for c in changes} == {
        ("name", "removed"),
        ("priority", "removed"),
        ("interval", "removed"),
        ("timezone", "removed"),
        ("status", "changed"),
    }


def test_a_workflow_without_an_export_against_one_with_names_each_setting() -> None:
    export = {"workflow": {"name": "W", "priority": "High", "timezone": "UTC"}, "tasks": [], "linkages": []}
    changes = diff_states(export, None, old_state="Active", new_state="Inactive")
    assert all(f.field for f in changes.settings)
    assert "settings: name, priority, status, timezone" in changes.summary()


def test_equal_values_of_other_types_still_differ() -> None:
    for old, new in (({"a": 1}, {"a": True}), ({"a": 1}, {"a": 1.0}), ({"a": "1"}, {"a": 1})):
        assert [c.field for c in field_changes(old, new, frozenset())] == ["a"], (old, new)
    assert field_changes({"a": [1, {"b": None}], "id": 1}, {"id": 2, "a": [1, {"b": None}]}, frozenset({"id"})) == []
    not_json: Any = {1: "x"}  # keys that are not strings: DeepDiff decides
    assert field_changes(not_json, dict(not_json), frozenset()) == []
