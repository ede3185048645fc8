"""An export as a diagram: a Start node, one node per task, one edge per linkage (pure).

A diagram may carry the changes from an older revision (``WorkflowChanges``): tasks added or
changed and linkages added are marked, so every format can highlight them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zuora_pipeline.logic.workflow_diff import START, TaskRef, WorkflowChanges

START_ID = "start"
ADDED, CHANGED = "added", "changed"

# Task families by action type (the part before "::", or the whole type): drawing style only.
_FAMILIES = {
    "Callout": "notify",
    "Email": "notify",
    "Notification": "notify",
    "Query": "data",
    "Export": "data",
    "Create": "data",
    "Update": "data",
    "Delete": "data",
    "CustomObject": "data",
    "Data": "data",
    "If": "decision",
    "Approval": "decision",
    "Iterate": "logic",
    "Logic": "logic",
    "Delay": "logic",
    "Billing": "billing",
    "Payment": "billing",
}
_DECISIONS = {"If", "Approval", "Logic::Case"}
STYLES = {  # family -> (fill, border)
    "start": ("#e8e8e8", "#555555"),
    "notify": ("#fde2c8", "#c0611b"),
    "data": ("#d6e6fb", "#2f6db5"),
    "decision": ("#fbf3c4", "#a08a12"),
    "logic": ("#e6dcf5", "#6a4aa5"),
    "billing": ("#d5f0d9", "#2e8540"),
    "other": ("#eeeeee", "#777777"),
}
MARK_COLOURS = {ADDED: "#0b8a3e", CHANGED: "#d9480f"}  # outline of an added / changed task
MARK_WIDTH = 3.0
_GOOD = {"Success", "True", "Approve", "Iterate", "For Each", "Start"}
_BAD = {"Failure", "False", "Reject"}


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    action_type: str
    family: str
    decision: bool
    task_id: str | None = None  # the task's id in the export; None for Start and missing tasks
    mark: str | None = None  # ADDED | CHANGED since the revision compared with

    @property
    def lines(self) -> tuple[str, ...]:
        return (self.name,) if self.id == START_ID else (self.name, self.action_type)

    @property
    def shape(self) -> str:
        return "ellipse" if self.family == "start" else "diamond" if self.decision else "box"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    mark: str | None = None  # ADDED since the revision compared with

    @property
    def tone(self) -> str:
        return "good" if self.label in _GOOD else "bad" if self.label in _BAD else "other"


@dataclass(frozen=True)
class Diagram:
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def title(customer: str, workflow_name: str, workflow_id: int, revision: int) -> str:
    """What every drawing of a workflow says it shows (the CLI's files and the browser's pages)."""
    return f"{customer} · {workflow_name} (workflow {workflow_id}, revision {revision})"


def family(action_type: str | None) -> str:
    if not action_type:
        return "other"
    return _FAMILIES.get(action_type.split("::", 1)[0], "other")


def _label(task: dict[str, Any]) -> str:
    # The diff names linkage ends this way; a linkage is matched to its edge by these labels.
    return TaskRef(None, task.get("name"), task.get("action_type"), "").label()


def diagram(export: dict[str, Any] | None, *, title: str = "", changes: WorkflowChanges | None = None) -> Diagram:
    """Every task is a node and every linkage an edge; a linkage naming a task the export does
    not hold points at a node saying so, so nothing is silently dropped. With ``changes`` (from
    an older revision to this export), added and changed tasks and added linkages are marked."""
    export = export or {}
    workflow = export.get("workflow")
    if not isinstance(workflow, dict):
        workflow = {}
    node_marks: dict[str, str] = {}
    added_links: set[tuple[str, str, str]] = set()
    if changes is not None:
        node_marks.update({str(t.id): ADDED for t in changes.tasks_added if t.id is not None})
        node_marks.update({str(c.new.id): CHANGED for c in changes.tasks_changed if c.new.id is not None})
        added_links = {(link.source, link.target, link.linkage_type) for link in changes.linkages_added}
    nodes = [Node(START_ID, "Start", "", "start", False)]
    ids: dict[Any, str] = {}
    labels: dict[str, str] = {START_ID: START}
    for position, task in enumerate(t for t in export.get("tasks") or [] if isinstance(t, dict)):
        node_id = f"t{position}"
        task_id = str(task.get("id"))
        ids.setdefault(task_id, node_id)
        labels[node_id] = _label(task)
        action = str(task.get("action_type") or "?")
        name = str(task.get("name") or f"task {task.get('id')}")
        nodes.append(
            Node(node_id, name, action, family(action), action in _DECISIONS, task_id, node_marks.get(task_id))
        )
    edges: list[Edge] = []
    for link in export.get("linkages") or []:
        if not isinstance(link, dict):
            continue
        source_task = link.get("source_task_id")
        source = START_ID if source_task is None else ids.get(str(source_task))
        target = ids.get(str(link.get("target_task_id")))
        for end, known in ((source_task, source), (link.get("target_task_id"), target)):
            if known is None:
                missing = f"missing{len(nodes)}"
                nodes.append(Node(missing, f"task {end} (not in export)", "?", "other", False))
                ids[str(end)] = missing
                labels[missing] = f"task {end}"
        source = START_ID if source_task is None else ids[str(source_task)]
        target = ids[str(link.get("target_task_id"))]
        kind = str(link.get("linkage_type") or "")
        mark = ADDED if (labels[source], labels[target], kind) in added_links else None
        edges.append(Edge(source, target, kind, mark))
    return Diagram(title or str(workflow.get("name") or ""), tuple(nodes), tuple(edges))
