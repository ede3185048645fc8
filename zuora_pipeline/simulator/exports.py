"""Derive a version's export (``{"workflow","tasks","linkages"}``) from its content seed.

Tasks form a tree: the first task hangs off a Start linkage from the version id, every later
task has ``task_id`` = its parent and exactly one linkage parent -> task whose type fits the
parent's action (If -> True/False, Approval -> Approve/Reject, ...).
"""

from __future__ import annotations

import random
from typing import Any

from zuora_pipeline.simulator import catalog
from zuora_pipeline.simulator.model import Version


def build_export(version: Version) -> dict[str, Any]:
    if version.export_override is not None:
        return version.export_override
    rng = random.Random(version.content_seed)
    workflow = {
        "id": version.id,
        "name": version.name,
        "description": version.description,
        "type": "Workflow::Setup",
        "version": version.version,
        "status": None,
        "priority": version.priority,
        "call_type": None,
        "ondemand_trigger": version.ondemand_trigger,
        "callout_trigger": version.callout_trigger,
        "scheduled_trigger": version.scheduled_trigger,
        "sync_trigger": False,
        "interval": version.interval,
        "timezone": version.timezone,
        "delete_ttl": 60,
        "parameters": workflow_parameters(rng),
        "data": {},
        "notifications": {},
        "task_summary": {},
        "css": {"top": "40px", "left": "30px"},
        "original_workflow_id": None,
        "started_at": None,
        "finished_at": None,
    }
    tasks: list[dict[str, Any]] = []
    linkages: list[dict[str, Any]] = []
    depth: dict[int, int] = {}
    children: dict[int, int] = {}
    for position in range(version.task_count):
        task_id = version.task_id_base + position
        action = rng.choice(catalog.ACTION_TYPES)
        if position == 0:
            parent: int | None = None
            linkages.append(
                {
                    "source_workflow_id": version.id,
                    "source_task_id": None,
                    "target_task_id": task_id,
                    "linkage_type": "Start",
                }
            )
            depth[task_id] = 0
        else:
            # Mostly a chain, sometimes a branch off an earlier task, so trees have fan-out.
            parent = task_id - 1 if rng.random() < 0.7 else version.task_id_base + rng.randrange(position)
            nth_child = children.get(parent, 0)
            children[parent] = nth_child + 1
            parent_action = tasks[parent - version.task_id_base]["action_type"]
            linkages.append(
                {
                    "source_workflow_id": None,
                    "source_task_id": parent,
                    "target_task_id": task_id,
                    "linkage_type": linkage_type(rng, parent_action, nth_child),
                }
            )
            depth[task_id] = depth[parent] + 1
        tasks.append(build_task(rng, task_id, parent, action, position, depth[task_id]))
    return {"workflow": workflow, "tasks": tasks, "linkages": linkages}


def linkage_type(rng: random.Random, parent_action: str, nth_child: int) -> str:
    # Zuora stores linkage_type as a free string; "For Each" and Case_N occur in real exports.
    if parent_action == "If":
        return "True" if nth_child % 2 == 0 else "False"
    if parent_action == "Approval":
        return "Approve" if nth_child % 2 == 0 else "Reject"
    if parent_action == "Iterate":
        return "Iterate" if rng.random() < 0.7 else "For Each"
    if parent_action == "Logic::Case":
        return f"Case_{nth_child + 1}" if rng.random() < 0.8 else "Case_Else"
    return "Success" if rng.random() < 0.9 else "Failure"


def build_task(
    rng: random.Random, task_id: int, parent: int | None, action: str, position: int, depth: int
) -> dict[str, Any]:
    object_name = rng.choice(catalog.OBJECTS) if action in ("Query", "Create", "Update", "Delete", "Export") else None
    return {
        "id": task_id,
        "name": rng.choice(catalog.TASK_NAMES),
        "action_type": action,
        "call_type": "SOAP"
        if action == "Callout" and rng.random() < 0.5
        else ("REST" if action == "Callout" else None),
        "object": object_name,
        "object_id": f"{rng.getrandbits(128):032x}" if object_name and rng.random() < 0.2 else None,
        "task_id": parent,
        "original_task_id": None,
        "original_workflow_id": None,
        "status": None,
        "error": None,
        "error_class": None,
        "error_details": None,
        "process_id": None,
        "priority": rng.choice(catalog.PRIORITIES),
        "concurrent_limit": 9_999_999 if rng.random() < 0.9 else rng.choice((1, 5, 10)),
        "iterate_row_reference": None,
        "object_batched_reference": None,
        "tags": list(rng.choice(catalog.TAGS)),
        "assignment": [],
        "css": {"top": f"{160 + 120 * position}px", "left": f"{30 + 220 * depth}px"},
        "parameters": task_parameters(rng, action, object_name),
    }


def task_parameters(rng: random.Random, action: str, object_name: str | None) -> dict[str, Any]:
    # Values are strings even for booleans and numbers, as in Zuora's exports.
    if action == "Callout":
        return {
            "url": rng.choice(("http://scooterlabs.com/echo", "https://hooks.example.com/zuora?a=1&b=2")),
            "method": rng.choice(("GET", "POST")),
            "body_type": "raw",
            "raw_body": "",
            "datas": [{"key": "", "value": ""}],
            "headers": [{"key": "", "value": ""}],
            "authorization": {"type": "none"},
            "validation": {"zuora_call": "false", "status_codes": ["", "200"]},
            "retry_rules": {"retry_count": str(rng.randrange(4)), "retry_window": "30", "current_retry_count": "0"},
            "strict_variables": "true",
            "validate_response": "false",
            "validation_scheme": "",
            "include_response_code": "true",
        }
    if action in ("Query", "Export", "CustomObject::Query"):
        return {
            "zoql": f"select Id, Name from {object_name or 'Account'} where Status = 'Active'",
            "export_format": "JSON",
            "batch_size": str(rng.choice((100, 1000))),
            "use_data_query": "false",
        }
    if action == "If":
        return {"if_clause": "{{Data.Account.Balance}} > 0", "strict": "true"}
    if action == "Iterate":
        return {"iterate_over": "Data.Invoices", "parallel": rng.choice(("true", "false")), "batch_size": "1"}
    if action == "Email":
        return {
            "to": "ops@example.com",
            "subject": 'Workflow "{{Workflow.Name}}" finished',
            "attach": "false",
            "body": "Héllo — done.",
        }
    if action == "Delay":
        return {"delay_seconds": str(rng.choice((60, 3600, 86400)))}
    if action in ("Create", "Update"):
        return {
            "object": object_name or "Account",
            "fields": [{"key": "Notes__c", "value": "{{Data.note}}"}, {"key": "Status", "value": "Active"}],
        }
    return {"enabled": "true", "timeout": str(rng.choice((30, 60, 300)))}


def workflow_parameters(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.7:
        return {}
    return {
        "fields": [
            {
                "name": "AccountId",
                "label": "Account Id",
                "datatype": "Text",
                "required": "true",
                "default": "",
                "callout_id": "",
                "object_name": "Account",
            }
        ]
    }
