from datetime import UTC, datetime

from zuora_pipeline.logic.hashing import export_hash
from zuora_pipeline.logic.normalize import list_fingerprint, workflow_row
from zuora_pipeline.zuora.models import parse_list_item

ITEM = {
    "id": 48,
    "name": "New test workflow",
    "description": "",
    "status": "Active",
    "calloutTrigger": True,
    "ondemandTrigger": True,
    "scheduledTrigger": False,
    "interval": None,
    "timezone": None,
    "createdAt": "2019-05-31T14:52:38.171Z",
    "updatedAt": "2019-06-03T21:02:26.694+08:00",
    "active_version": {"id": 49, "description": "", "status": "Active", "type": "Workflow::Setup", "version": "0.0.1"},
    "latest_inactive_verisons": [],
}


def test_workflow_row_normalizes_the_list_entry():
    row = workflow_row(parse_list_item(ITEM))
    assert row.zuora_id == 48
    assert row.description is None
    assert row.state == "Active"
    assert row.active_version == "0.0.1"
    assert row.updated_on == datetime(2019, 6, 3, 13, 2, 26, 694000, tzinfo=UTC)


def test_fingerprint_changes_with_update_time_version_and_status_only():
    base = list_fingerprint(parse_list_item(ITEM))
    assert list_fingerprint(parse_list_item({**ITEM, "name": "renamed"})) == base
    assert list_fingerprint(parse_list_item({**ITEM, "updatedAt": "2020-01-01T00:00:00Z"})) != base
    assert list_fingerprint(parse_list_item({**ITEM, "status": "Inactive"})) != base
    newer = {**ITEM["active_version"], "version": "0.0.2", "id": 50}
    assert list_fingerprint(parse_list_item({**ITEM, "active_version": newer})) != base


def test_export_hash_ignores_key_order():
    assert export_hash({"a": 1, "b": [1, {"c": 2, "d": 3}]}) == export_hash({"b": [1, {"d": 3, "c": 2}], "a": 1})
    assert export_hash({"a": 1}) != export_hash({"a": 2})
