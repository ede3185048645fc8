from datetime import UTC, datetime
from typing import Any

import pytest

from zuora_pipeline.zuora import (
    ExportModel,
    TokenResponse,
    WorkflowListItem,
    WorkflowListPage,
    ZuoraValidationError,
)
from zuora_pipeline.zuora.models import parse_export, parse_list_item, parse_model
from zuora_pipeline_tests.fixtures.openapi import spec_example

_example = spec_example


@pytest.fixture(scope="module")
def list_example() -> dict[str, Any]:
    return _example("zuora-workflows-api-openapi.yml", "/workflows")


def test_spec_list_example(list_example: dict[str, Any]) -> None:
    page = WorkflowListPage.model_validate(list_example)
    item = page.data[0]
    assert item.id == 48 and item.name == "New test workflow"
    assert item.description is None  # "" means unset
    assert item.status == "Active"
    assert (item.callout_trigger, item.ondemand_trigger, item.scheduled_trigger) == (True, True, False)
    assert item.interval is None and item.timezone is None
    assert item.created_at == datetime(2019, 5, 31, 14, 52, 38, 171000, tzinfo=UTC)
    assert item.active_version is not None and item.active_version.id == 49
    assert item.active_version.version == "0.0.1"
    assert [v.version for v in item.latest_inactive_verisons] == ["0.0.2", "0.0.3"]
    assert item.latest_inactive_verisons[0].timezone == "Sydney"
    assert item.latest_inactive_verisons[0].interval is None
    assert page.pagination is not None
    assert page.pagination.next_page == "https://rest.zuora.com/workflows?page=2&page_length=1"
    assert (page.pagination.page, page.pagination.page_length) == (1, 1)


def test_spec_get_example() -> None:
    item = WorkflowListItem.model_validate(_example("zuora-workflows-api-openapi.yml", "/workflows/{workflow_id}"))
    assert item.id == 2 and item.priority == "Medium" and item.timezone == "Sydney"
    assert item.latest_inactive_verisons == []


def test_spec_export_example() -> None:
    data = _example("zuora-workflows-api-openapi.yml", "/workflows/{workflow_id}/export")
    export = ExportModel.model_validate(data)
    assert export.workflow.id == 286 and export.workflow.priority == "Medium"
    assert export.workflow.status is None and export.workflow.delete_ttl == 60
    task = export.tasks[0]
    assert (task.id, task.name, task.action_type, task.call_type) == (849, "Call Echo", "Callout", "SOAP")
    assert task.task_id is None and task.concurrent_limit == 9999999
    assert task.parameters["retry_rules"]["retry_count"] == "0"  # string values kept as strings
    assert task.tags == [""] and task.css == {"top": "160px", "left": "470px"}
    assert task.model_extra is not None and "iterate_row_reference" in task.model_extra
    link = export.linkages[0]
    assert (link.source_workflow_id, link.source_task_id, link.target_task_id, link.linkage_type) == (
        286,
        None,
        849,
        "Start",
    )


def test_spec_token_example() -> None:
    data = _example("zuora-oauth-api-openapi.yml", "/oauth/token", "post")
    token = TokenResponse.model_validate(data)
    assert token.access_token == "c652cbc0ea384b9f81856a93a2a74538"
    assert token.expires_in == 3599 and token.token_type == "bearer"
    assert token.access_token not in repr(token)  # never printable


@pytest.mark.parametrize("variant", ["null", "empty", "missing", "all-null"])
def test_active_version_absent_variants(variant: str) -> None:
    raw: dict[str, Any] = {"id": 1, "name": "x"}
    if variant == "null":
        raw["active_version"] = None
    elif variant == "empty":
        raw["active_version"] = {}
    elif variant == "all-null":
        raw["active_version"] = {"id": None, "version": None}
    assert WorkflowListItem.model_validate(raw).active_version is None


def test_tolerant_values_and_unknown_fields_kept() -> None:
    item = WorkflowListItem.model_validate(
        {
            "id": "48",
            "name": "n",
            "description": None,
            "timezone": "",
            "interval": "0 0 * * *",
            "createdAt": "2019-09-19 18:25:33 UTC",
            "updatedAt": "2021-02-04T13:39:10.530+08:00",
            "latest_inactive_verisons": None,
            "brandNewField": {"a": 1},
        }
    )
    assert item.id == 48 and item.timezone is None and item.interval == "0 0 * * *"
    assert item.updated_at == datetime(2021, 2, 4, 5, 39, 10, 530000, tzinfo=UTC)
    assert item.latest_inactive_verisons == []
    assert item.model_extra == {"brandNewField": {"a": 1}}
    export = ExportModel.model_validate(
        {
            "workflow": {"id": "7", "new": 1},
            "tasks": [{"id": "9", "task_id": "", "object_id": 123, "zuora_org_ids": []}],
            "linkages": [{"target_task_id": 9, "linkage_type": "For Each"}, {"linkage_type": "Case_3"}],
            "workflow_definition": {"name": "x", "category": "y"},
        }
    )
    assert export.workflow.id == 7 and export.tasks[0].id == 9 and export.tasks[0].task_id is None
    assert export.tasks[0].object_id == "123"
    assert export.linkages[0].linkage_type == "For Each"
    assert export.model_extra == {"workflow_definition": {"name": "x", "category": "y"}}


@pytest.mark.parametrize("bad_id", ["abc", True, "1.5", "1/../2"])
def test_bad_ids_refused(bad_id: object) -> None:
    with pytest.raises(ZuoraValidationError, match="'id'"):
        parse_list_item({"id": bad_id, "name": "x"})


def test_missing_name_names_field_and_workflow() -> None:
    with pytest.raises(ZuoraValidationError) as info:
        parse_list_item({"id": 48}, endpoint="GET /workflows?page=2", what=" (item 3 of page 2)")
    err = info.value
    assert err.field == "name" and err.workflow_id == 48
    assert "workflow 48" in str(err) and "'name'" in str(err) and "missing" in str(err)
    assert "GET /workflows?page=2" in str(err)
    assert err.__cause__ is None  # pydantic's input dump is not chained


def test_missing_id_in_list_item() -> None:
    with pytest.raises(ZuoraValidationError, match=r"id unknown.*'id' is missing"):
        parse_list_item({"name": "x"})


def test_export_task_without_id() -> None:
    with pytest.raises(ZuoraValidationError) as info:
        parse_export({"workflow": {"id": 1}, "tasks": [{"id": 5}, {"name": "no id"}]}, workflow_id=77)
    assert info.value.field == "tasks.1.id" and info.value.workflow_id == 77
    assert "workflow 77" in str(info.value) and "tasks.1.id" in str(info.value)


def test_export_without_workflow_key() -> None:
    with pytest.raises(ZuoraValidationError, match="'workflow' is missing"):
        parse_export({"tasks": []}, workflow_id=5)


def test_bad_date_is_a_validation_error() -> None:
    with pytest.raises(ZuoraValidationError, match="updatedAt"):
        parse_model(WorkflowListItem, {"id": 1, "name": "x", "updatedAt": "last tuesday"}, workflow_id=1)
