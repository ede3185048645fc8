import pytest

from zuora_pipeline.logic.task_rows import TaskExtractionError, task_rows, task_type


def test_task_rows_map_the_export_fields():
    export = {
        "tasks": [
            {
                "id": 849,
                "name": "Call Echo",
                "action_type": "Callout",
                "call_type": "SOAP",
                "object": None,
                "object_id": "",
                "task_id": None,
                "priority": "Medium",
                "parameters": {"url": "http://x", "retry_count": "0"},
            },
            {"id": "850", "name": "Case", "action_type": "Logic::Case", "task_id": "849"},
        ]
    }
    first, second = task_rows(export, workflow_id=286)

    assert (first.zuora_id, first.name, first.action_type, first.call_type) == (849, "Call Echo", "Callout", "SOAP")
    assert first.object is None and first.object_id is None
    assert first.data == {"url": "http://x", "retry_count": "0"}
    assert first.workflow_task_json is export["tasks"][0]
    assert (second.zuora_id, second.parent_task_id, second.task_type) == (850, 849, "Logic")


def test_an_export_without_tasks_has_no_rows():
    assert task_rows({"workflow": {}, "tasks": None}, workflow_id=1) == []


def test_a_task_without_id_names_the_workflow_and_field():
    with pytest.raises(TaskExtractionError, match=r"workflow 77: task #1 has no 'id'"):
        task_rows({"tasks": [{"id": 1}, {"name": "no id"}]}, workflow_id=77)


@pytest.mark.parametrize(
    ("action", "family"), [("Callout", "Callout"), ("Logic::JSONTransform", "Logic"), (None, None)]
)
def test_task_type_is_the_action_family(action, family):
    assert task_type(action) == family
