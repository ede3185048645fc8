"""Export JSON -> task rows (the Laravel system's ``syncTasksFromJson``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class TaskExtractionError(ValueError):
    """An export's tasks cannot be extracted (names the workflow and the field)."""


@dataclass(frozen=True)
class TaskRow:
    zuora_id: int
    name: str | None
    task_type: str | None
    action_type: str | None
    call_type: str | None
    object: str | None
    object_id: str | None
    parent_task_id: int | None
    priority: str | None
    data: Any
    workflow_task_json: dict[str, Any]


def _text(value: Any) -> str | None:
    # Zuora uses null and "" interchangeably for "unset".
    if value is None or value == "":
        return None
    return str(value)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def task_type(action_type: str | None) -> str | None:
    """The task's family: the part of ``action_type`` before ``::`` (``Logic::Case`` -> ``Logic``),
    or the action type itself; what the Laravel system's UI filtered tasks by."""
    if action_type is None:
        return None
    return action_type.split("::", 1)[0]


def task_rows(export: dict[str, Any], *, workflow_id: int | str) -> list[TaskRow]:
    tasks = export.get("tasks") or []
    if not isinstance(tasks, list):
        raise TaskExtractionError(f"workflow {workflow_id}: export field 'tasks' is not a list")
    rows: list[TaskRow] = []
    for position, task in enumerate(tasks):
        if not isinstance(task, dict) or task.get("id") in (None, ""):
            raise TaskExtractionError(f"workflow {workflow_id}: task #{position} has no 'id' (required field)")
        action = _text(task.get("action_type"))
        rows.append(
            TaskRow(
                zuora_id=int(task["id"]),
                name=_text(task.get("name")),
                task_type=task_type(action),
                action_type=action,
                call_type=_text(task.get("call_type")),
                object=_text(task.get("object")),
                object_id=_text(task.get("object_id")),
                parent_task_id=_int(task.get("task_id")),
                priority=_text(task.get("priority")),
                data=task.get("parameters"),
                workflow_task_json=task,
            )
        )
    return rows
