"""Two states of a workflow -> what changed, in Zuora's terms (no I/O).

A state is the workflow's export (``{"workflow", "tasks", "linkages"}``) plus its listing status.
The result names tasks added, removed and changed (field by field, ``parameters`` included, old ->
new), linkages added and removed, and workflow settings changed. The nested comparison of two
tasks or two settings objects is DeepDiff's; this module decides what is compared with what.

Tasks are paired before they are compared:
- ``by_id`` (two revisions of one workflow in one tenant): the same task id is the same task.
- then, for every task not paired yet, by graph position (ids differ between tenants, and a
  newly published version renumbers its tasks): walking down from Start, the children of two
  paired tasks are paired by (linkage type, action type, name), then (linkage type, action type)
  (a renamed task), then (action type, name) (a task reached by another linkage type); what is
  left is paired anywhere in the graph by (action type, name) (a moved task). Ties go in export
  order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from deepdiff import DeepDiff
from deepdiff.helper import notpresent

# Ids and canvas coordinates: they differ between tenants and move with every layout tweak, so a
# difference in them is not a change of what the workflow does.
TASK_IGNORED = frozenset({"id", "task_id", "original_task_id", "original_workflow_id", "workflow_id", "css"})
SETTINGS_IGNORED = frozenset(
    {"id", "version", "original_workflow_id", "css", "started_at", "finished_at", "task_summary", "status"}
)
START = "Start"


@dataclass(frozen=True)
class FieldChange:
    field: str  # dotted path: "parameters.url", "tags[1]"
    change: str  # "changed" | "added" | "removed"
    old: Any = None
    new: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "change": self.change, "old": self.old, "new": self.new}

    def text(self) -> str:
        if self.change == "added":
            return f"{self.field}: (none) -> {self.new!r}"
        if self.change == "removed":
            return f"{self.field}: {self.old!r} -> (none)"
        return f"{self.field}: {self.old!r} -> {self.new!r}"


@dataclass(frozen=True)
class TaskRef:
    id: int | None
    name: str | None
    action_type: str | None
    position: str  # linkage types from Start, e.g. "Start > Success > True"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "action_type": self.action_type, "position": self.position}

    def label(self) -> str:
        return f"{self.name or '(unnamed)'!s} [{self.action_type or '?'}]"


@dataclass(frozen=True)
class TaskChange:
    old: TaskRef
    new: TaskRef
    fields: tuple[FieldChange, ...]

    def to_json(self) -> dict[str, Any]:
        return {"old": self.old.to_json(), "new": self.new.to_json(), "fields": [f.to_json() for f in self.fields]}


@dataclass(frozen=True)
class LinkageRef:
    source: str  # task label, or "Start"
    target: str
    linkage_type: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "linkage_type": self.linkage_type}

    def text(self) -> str:
        return f"{self.source} -[{self.linkage_type}]-> {self.target}"


@dataclass
class WorkflowChanges:
    settings: list[FieldChange] = field(default_factory=list)
    tasks_added: list[TaskRef] = field(default_factory=list)
    tasks_removed: list[TaskRef] = field(default_factory=list)
    tasks_changed: list[TaskChange] = field(default_factory=list)
    linkages_added: list[LinkageRef] = field(default_factory=list)
    linkages_removed: list[LinkageRef] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not (
            self.settings
            or self.tasks_added
            or self.tasks_removed
            or self.tasks_changed
            or self.linkages_added
            or self.linkages_removed
        )

    def counts(self) -> dict[str, int]:
        return {
            "tasks_added": len(self.tasks_added),
            "tasks_removed": len(self.tasks_removed),
            "tasks_changed": len(self.tasks_changed),
            "linkages_changed": len(self.linkages_added) + len(self.linkages_removed),
            "settings_changed": len(self.settings),
        }

    def summary(self) -> str:
        """One line: "2 tasks added, 1 task changed (parameters.url); settings: priority"."""
        if self.identical:
            return "no changes to tasks, linkages or settings"
        parts: list[str] = []
        for count, what in (
            (len(self.tasks_added), "added"),
            (len(self.tasks_removed), "removed"),
        ):
            if count:
                parts.append(f"{count} task{'s' if count != 1 else ''} {what}")
        if self.tasks_changed:
            fields = sorted({f.field.split("[", 1)[0] for change in self.tasks_changed for f in change.fields})
            shown = ", ".join(fields[:4]) + (", ..." if len(fields) > 4 else "")
            n = len(self.tasks_changed)
            parts.append(f"{n} task{'s' if n != 1 else ''} changed ({shown})")
        for count, what in ((len(self.linkages_added), "added"), (len(self.linkages_removed), "removed")):
            if count:
                parts.append(f"{count} linkage{'s' if count != 1 else ''} {what}")
        text = ", ".join(parts)
        if self.settings:
            names = sorted({f.field.split(".", 1)[0].split("[", 1)[0] for f in self.settings})
            text = f"{text}; settings: {', '.join(names)}" if text else f"settings: {', '.join(names)}"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "identical": self.identical,
            "counts": self.counts(),
            "settings": [f.to_json() for f in self.settings],
            "tasks_added": [t.to_json() for t in self.tasks_added],
            "tasks_removed": [t.to_json() for t in self.tasks_removed],
            "tasks_changed": [c.to_json() for c in self.tasks_changed],
            "linkages_added": [link.to_json() for link in self.linkages_added],
            "linkages_removed": [link.to_json() for link in self.linkages_removed],
        }

    def lines(self) -> list[str]:
        """Human-readable, one fact per line (what `workflows diff` and `compare` print)."""
        out: list[str] = []
        out.extend(f"  setting {f.text()}" for f in self.settings)
        out.extend(f"  + task {t.label()} at {t.position}" for t in self.tasks_added)
        out.extend(f"  - task {t.label()} at {t.position}" for t in self.tasks_removed)
        for change in self.tasks_changed:
            title = change.new.label() if change.old.label() == change.new.label() else change.old.label()
            out.append(f"  ~ task {title} at {change.new.position}")
            out.extend(f"      {f.text()}" for f in change.fields)
        out.extend(f"  + linkage {link.text()}" for link in self.linkages_added)
        out.extend(f"  - linkage {link.text()}" for link in self.linkages_removed)
        return out


# ---- the graph of one export -------------------------------------------------------------------


@dataclass
class _Graph:
    tasks: list[dict[str, Any]]
    children: dict[int | str, list[tuple[str, int]]]  # node -> [(linkage type, child index)]
    linkages: list[tuple[int | str, int | str, str]]  # (source node, target node, type)
    positions: dict[int, str]

    def ref(self, node: int) -> TaskRef:
        task = self.tasks[node]
        return TaskRef(_int(task.get("id")), task.get("name"), task.get("action_type"), self.positions[node])

    def label(self, node: int | str) -> str:
        return START if node == START else self.ref(int(node)).label()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _graph(export: Mapping[str, Any] | None) -> _Graph:
    export = export or {}
    tasks = [t for t in (export.get("tasks") or []) if isinstance(t, dict)]
    index: dict[Any, int] = {}
    for position, task in enumerate(tasks):
        index.setdefault(_int(task.get("id")), position)
    children: dict[int | str, list[tuple[str, int]]] = defaultdict(list)
    linkages: list[tuple[int | str, int | str, str]] = []
    for link in export.get("linkages") or []:
        if not isinstance(link, dict):
            continue
        kind = str(link.get("linkage_type") or "")
        source_id = _int(link.get("source_task_id"))
        source: int | str | None = START if source_id is None else index.get(source_id)
        target = index.get(_int(link.get("target_task_id")))
        if source is None or target is None:
            continue  # a linkage to a task the export does not hold: nothing to draw or pair
        children[source].append((kind, target))
        linkages.append((source, target, kind))
    # Positions: the first path found from Start, breadth first; unreachable tasks say so.
    positions: dict[int, str] = {}
    queue: list[tuple[int | str, str]] = [(START, "")]
    while queue:
        node, path = queue.pop(0)
        for kind, child in children.get(node, []):
            if child not in positions:
                positions[child] = f"{path} > {kind}" if path else kind
                queue.append((child, positions[child]))
    for node in range(len(tasks)):
        positions.setdefault(node, "(not linked)")
    return _Graph(tasks, children, linkages, positions)


# ---- pairing -----------------------------------------------------------------------------------

_Key = Callable[[str, dict[str, Any]], Any]
_CHILD_KEYS: tuple[_Key, ...] = (
    lambda kind, t: (kind, t.get("action_type"), t.get("name")),
    lambda kind, t: (kind, t.get("action_type")),
    lambda kind, t: (t.get("action_type"), t.get("name")),
)


def _pair(old: _Graph, new: _Graph, *, by_id: bool) -> dict[int, int]:
    pairs: dict[int, int] = {}
    used: set[int] = set()
    if by_id:
        new_ids = {_int(t.get("id")): n for n, t in enumerate(new.tasks)}
        for o, task in enumerate(old.tasks):
            n = new_ids.get(_int(task.get("id")))
            if n is not None and n not in used and _int(task.get("id")) is not None:
                pairs[o] = n
                used.add(n)
    queue: list[tuple[int | str, int | str]] = [(START, START), *pairs.items()]
    while True:
        while queue:
            a, b = queue.pop(0)
            for key in _CHILD_KEYS:
                free_new: dict[Any, list[int]] = defaultdict(list)
                for kind, child in new.children.get(b, []):
                    if child not in used:
                        free_new[key(kind, new.tasks[child])].append(child)
                for kind, child in old.children.get(a, []):
                    if child in pairs:
                        continue
                    candidates = free_new.get(key(kind, old.tasks[child]))
                    if candidates:
                        match = candidates.pop(0)
                        pairs[child] = match
                        used.add(match)
                        queue.append((child, match))
        # Moved tasks: same action type and name anywhere else in the graph.
        free_new_anywhere: dict[Any, list[int]] = defaultdict(list)
        for n, task in enumerate(new.tasks):
            if n not in used:
                free_new_anywhere[(task.get("action_type"), task.get("name"))].append(n)
        for o, task in enumerate(old.tasks):
            if o in pairs:
                continue
            candidates = free_new_anywhere.get((task.get("action_type"), task.get("name")))
            if candidates:
                match = candidates.pop(0)
                pairs[o] = match
                used.add(match)
                queue.append((o, match))
        if not queue:
            return pairs


# ---- field-level comparison --------------------------------------------------------------------


def _path(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _same(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Equal in value and in type (1, 1.0 and True differ, as DeepDiff sees them), without
    DeepDiff's cost: most pairs compared (unchanged tasks, tenants' copies) are equal."""
    try:
        return orjson.dumps(left, option=orjson.OPT_SORT_KEYS) == orjson.dumps(right, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # keys that are not strings, integers beyond 64 bits: DeepDiff decides
        return False


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any], ignored: frozenset[str]) -> list[FieldChange]:
    left = {k: v for k, v in old.items() if k not in ignored}
    right = {k: v for k, v in new.items() if k not in ignored}
    if _same(left, right):
        return []
    changes: list[FieldChange] = []
    # threshold_to_diff_deeper=0: report each key, however few the two objects share (DeepDiff's
    # default reports two dicts sharing under a third of their keys as one change of the whole).
    for levels in DeepDiff(left, right, view="tree", verbose_level=2, threshold_to_diff_deeper=0).values():
        for level in levels:
            before = None if level.t1 is notpresent else level.t1
            after = None if level.t2 is notpresent else level.t2
            kind = "added" if level.t1 is notpresent else "removed" if level.t2 is notpresent else "changed"
            changes.append(FieldChange(_path(level.path(output_format="list")), kind, before, after))
    return sorted(changes, key=lambda c: c.field)


def _settings(export: Mapping[str, Any] | None, state: str | None) -> dict[str, Any]:
    workflow = (export or {}).get("workflow")
    settings = dict(workflow) if isinstance(workflow, dict) else {}
    for key in SETTINGS_IGNORED:
        settings.pop(key, None)
    settings["status"] = state  # Active / Inactive lives in the listing, not in the export
    return settings


def diff_states(
    old_export: Mapping[str, Any] | None,
    new_export: Mapping[str, Any] | None,
    *,
    old_state: str | None = None,
    new_state: str | None = None,
    by_id: bool = True,
) -> WorkflowChanges:
    """What changed from the old state to the new one. ``by_id=False`` for two tenants."""
    old, new = _graph(old_export), _graph(new_export)
    pairs = _pair(old, new, by_id=by_id)
    result = WorkflowChanges(
        settings=field_changes(_settings(old_export, old_state), _settings(new_export, new_state), frozenset())
    )
    paired_new = set(pairs.values())
    result.tasks_removed = [old.ref(o) for o in range(len(old.tasks)) if o not in pairs]
    result.tasks_added = [new.ref(n) for n in range(len(new.tasks)) if n not in paired_new]
    for o, n in sorted(pairs.items(), key=lambda item: item[1]):
        fields = field_changes(old.tasks[o], new.tasks[n], TASK_IGNORED)
        if fields:
            result.tasks_changed.append(TaskChange(old.ref(o), new.ref(n), tuple(fields)))

    def translated(node: int | str) -> tuple[str, int | str]:
        if node == START:
            return ("start", START)
        return ("paired", pairs[int(node)]) if int(node) in pairs else ("old", node)

    new_links = {(("start", START) if s == START else ("paired", s), ("paired", t), k) for s, t, k in new.linkages}
    old_links = {(translated(s), translated(t), k) for s, t, k in old.linkages}
    for s, t, k in old.linkages:
        if (translated(s), translated(t), k) not in new_links:
            result.linkages_removed.append(LinkageRef(old.label(s), old.label(t), k))
    for s, t, k in new.linkages:
        key = (("start", START) if s == START else ("paired", s), ("paired", t), k)
        if key not in old_links:
            result.linkages_added.append(LinkageRef(new.label(s), new.label(t), k))
    return result
