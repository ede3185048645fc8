"""An export as a diagram: a Start node, one node per task, one edge per linkage (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

START_ID = "start"

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
_GOOD = {"Success", "True", "Approve", "Iterate", "For Each", "Start"}
_BAD = {"Failure", "False", "Reject"}


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    action_type: str
    family: str
    decision: bool

    @property
    def lines(self) -> tuple[str, ...]:
        return (self.name,) if self.id == START_ID else (self.name, self.action_type)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str

    @property
    def tone(self) -> str:
        return "good" if self.label in _GOOD else "bad" if self.label in _BAD else "other"


@dataclass(frozen=True)
class Diagram:
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def family(action_type: str | None) -> str:
    if not action_type:
        return "other"
    return _FAMILIES.get(action_type.split("::", 1)[0], "other")


def diagram(export: dict[str, Any] | None, *, title: str = "") -> Diagram:
    """Every task is a node and every linkage an edge; a linkage naming a task the export does
    not hold points at a node saying so, so nothing is silently dropped."""
    export = export or {}
    workflow = export.get("workflow") if isinstance(export.get("workflow"), dict) else {}
    nodes = [Node(START_ID, "Start", "", "start", False)]
    ids: dict[Any, str] = {}
    for position, task in enumerate(t for t in export.get("tasks") or [] if isinstance(t, dict)):
        node_id = f"t{position}"
        ids.setdefault(str(task.get("id")), node_id)
        action = str(task.get("action_type") or "?")
        name = str(task.get("name") or f"task {task.get('id')}")
        nodes.append(Node(node_id, name, action, family(action), action in _DECISIONS))
    edges: list[Edge] = []
    for link in export.get("linkages") or []:
        if not isinstance(link, dict):
            continue
        source_task = link.get("source_task_id")
        source = START_ID if source_task is None else ids.get(str(source_task))
        target = ids.get(str(link.get("target_task_id")))
        for task_id, known in ((source_task, source), (link.get("target_task_id"), target)):
            if known is None:
                missing = f"missing{len(nodes)}"
                nodes.append(Node(missing, f"task {task_id} (not in export)", "?", "other", False))
                ids[str(task_id)] = missing
        source = START_ID if source_task is None else ids[str(source_task)]
        target = ids[str(link.get("target_task_id"))]
        edges.append(Edge(source, target, str(link.get("linkage_type") or "")))
    return Diagram(title or str(workflow.get("name") or ""), tuple(nodes), tuple(edges))
