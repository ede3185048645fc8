"""One simulated Zuora tenant: credentials, workflow definitions, serialized-response caches and
the mutations the admin API (and the "mutate" fault) apply.

All access happens on the server's event loop thread, so nothing here needs a lock.
"""

from __future__ import annotations

import bisect
import copy
import random
import string
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from zuora_pipeline.simulator import render
from zuora_pipeline.simulator.datagen import (
    IdSequences,
    generate_definitions,
    new_definition,
    new_version,
    now_ms,
    random_name,
    task_count_around,
)
from zuora_pipeline.simulator.exports import build_export
from zuora_pipeline.simulator.model import Version, WorkflowDef

_SECRET_ALPHABET = string.ascii_letters + string.digits
EXPORT_CACHE_BYTES = 128 * 1024 * 1024  # per tenant; beyond it exports are rebuilt (cheap) instead of kept


@dataclass(frozen=True)
class MutationOutcome:
    added: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)


class ExportCache:
    """LRU of serialized exports keyed by version id, bounded by bytes so a 10k x 20 tenant
    does not pin hundreds of MB; the gzip form is cached beside the plain one."""

    def __init__(self, budget: int = EXPORT_CACHE_BYTES) -> None:
        self._entries: OrderedDict[int, list[bytes | None]] = OrderedDict()
        self._size = 0
        self._budget = budget

    def get(self, key: int) -> list[bytes | None] | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: int, body: bytes) -> list[bytes | None]:
        self.discard(key)
        entry: list[bytes | None] = [body, None]
        self._entries[key] = entry
        self._size += len(body)
        while self._size > self._budget and len(self._entries) > 1:
            _, old = self._entries.popitem(last=False)
            self._size -= sum(len(part) for part in old if part is not None)
        return entry

    def add_gzip(self, key: int, entry: list[bytes | None], gz: bytes) -> None:
        if self._entries.get(key) is entry and entry[1] is None:
            entry[1] = gz
            self._size += len(gz)

    def discard(self, key: int) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._size -= sum(len(part) for part in old if part is not None)


class Tenant:
    def __init__(self, name: str, *, workflows: int, tasks: int, seed: int) -> None:
        self.name = name
        self.seed = seed
        self.mean_tasks = tasks
        credentials = random.Random(f"{seed}:{name}:credentials")
        self.client_id = str(uuid.UUID(int=credentials.getrandbits(128), version=4))
        self.client_secret = "".join(credentials.choice(_SECRET_ALPHABET) for _ in range(40))
        self.ids = IdSequences()
        definitions = generate_definitions(random.Random(f"{seed}:{name}"), self.ids, workflows, tasks)
        self.definitions: dict[int, WorkflowDef] = {d.id: d for d in definitions}
        self.order: list[int] = [d.id for d in definitions]  # ascending: the list endpoint's order
        self._mutations = 0
        self._items: dict[int, bytes] = {}
        self._gets: dict[int, bytes] = {}
        self._items_repr = "null"
        self.exports = ExportCache()

    # ---- reads -------------------------------------------------------------------------------

    def page_ids(self, page: int, page_length: int) -> list[int]:
        start = (page - 1) * page_length
        return self.order[start : start + page_length]

    def list_item_bytes(self, workflow_id: int, no_active_repr: str) -> bytes:
        if no_active_repr != self._items_repr:
            self._items.clear()
            self._gets.clear()
            self._items_repr = no_active_repr
        cached = self._items.get(workflow_id)
        if cached is None:
            cached = render.dumps(render.list_item(self.definitions[workflow_id], no_active_repr))
            self._items[workflow_id] = cached
        return cached

    def get_item_bytes(self, workflow_id: int, no_active_repr: str) -> bytes:
        self.list_item_bytes(workflow_id, no_active_repr)  # syncs the repr of both caches
        cached = self._gets.get(workflow_id)
        if cached is None:
            cached = render.dumps(render.get_item(self.definitions[workflow_id], no_active_repr))
            self._gets[workflow_id] = cached
        return cached

    def export_entry(self, version: Version) -> list[bytes | None]:
        entry = self.exports.get(version.id)
        if entry is None:
            entry = self.exports.put(version.id, render.dumps(build_export(version)))
        return entry

    def truth_bytes(self, no_active_repr: str) -> bytes:
        """``{"<id>": {"list_item": ..., "export": ...|null}}`` spliced from the same cached bytes
        the API serves, so the truth is byte-for-byte what a client receives."""
        parts: list[bytes] = []
        for workflow_id in self.order:
            active = self.definitions[workflow_id].active_version()
            export = self.export_entry(active)[0] if active is not None else b"null"
            assert export is not None
            parts.append(
                b'"%d":{"list_item":%s,"export":%s}'
                % (workflow_id, self.list_item_bytes(workflow_id, no_active_repr), export)
            )
        return b"{" + b",".join(parts) + b"}"

    # ---- mutations ---------------------------------------------------------------------------

    def _touch(self, definition: WorkflowDef) -> None:
        """Bump updatedAt strictly forward and drop every cached rendering of the definition."""
        definition.updated_at = max(now_ms(), definition.updated_at + 1)
        self._items.pop(definition.id, None)
        self._gets.pop(definition.id, None)
        for version in definition.versions:
            self.exports.discard(version.id)

    def _next_rng(self, seed: int) -> random.Random:
        self._mutations += 1
        return random.Random(f"{self.seed}:{self.name}:mutate:{seed}:{self._mutations}")

    def add_workflow(self, *, tasks: int = 3, active: bool = True, name: str | None = None, seed: int = 0) -> int:
        rng = self._next_rng(seed)
        created = now_ms()
        definition = new_definition(
            rng,
            self.ids,
            created=created,
            n_versions=1,
            active_tasks=tasks,
            mean_tasks=tasks,
            has_active=active,
            horizon=created,
            name=name,
        )
        definition.updated_at = max(definition.updated_at, created)
        self.definitions[definition.id] = definition
        self.order.append(definition.id)  # ids only grow, so appending keeps the order sorted
        return definition.id

    def delete_workflow(self, workflow_id: int) -> None:
        definition = self.definitions.pop(workflow_id)
        index = bisect.bisect_left(self.order, workflow_id)
        del self.order[index]
        self._items.pop(workflow_id, None)
        self._gets.pop(workflow_id, None)
        for version in definition.versions:
            self.exports.discard(version.id)

    def update_workflow(
        self, workflow_id: int, *, name: str | None = None, status: str | None = None, tasks: int | None = None
    ) -> None:
        definition = self.definitions[workflow_id]
        if status is not None and status not in ("Active", "Inactive"):
            raise ValueError(f"{status} is not a valid status. Choose from Active or Inactive")
        if name is not None:
            self._rename(definition, name, definition.description)
        if status is not None:
            definition.status = status
        if tasks is not None:
            self._publish_version(
                definition,
                tasks,
                random.Random(f"{self.seed}:{self.name}:{workflow_id}:{tasks}:{definition.updated_at}"),
            )
        self._touch(definition)

    def random_update(self, workflow_id: int, rng: random.Random) -> None:
        """An edit that always changes the workflow's export and bumps updatedAt."""
        definition = self.definitions[workflow_id]
        kind = rng.choice(("rename", "edit", "new_version"))
        if kind == "rename":
            name = random_name(rng)
            if name == definition.name:
                name = f"{name} (edited)"
            self._rename(definition, name, rng.choice(("", "Edited by the simulator", 'Now "quoted"')))
        elif kind == "edit":
            target = definition.active_version() or definition.latest_version()
            assert target is not None
            count = max(1, target.task_count + rng.choice((-1, 0, 1)))
            if count > target.task_count:
                target.task_id_base = self.ids.task_block(count)
            target.task_count = count
            target.content_seed = rng.getrandbits(63)
            target.updated_at = max(now_ms(), target.updated_at + 1)
        else:
            self._publish_version(definition, task_count_around(rng, self.mean_tasks), rng)
        self._touch(definition)

    def mutate(
        self, *, add: int = 0, update: int = 0, delete: int = 0, seed: int = 0, delete_before: int | None = None
    ) -> MutationOutcome:
        """Delete, then update, then add. ``delete_before`` (the "mutate" fault) restricts deletions
        to the first N positions when there are enough of them: deleting from pages a client has
        already read shifts every later item to an earlier page, which is the hazard to simulate."""
        rng = self._next_rng(seed)
        pool = self.order[:delete_before] if delete_before and delete_before >= delete else self.order
        deleted = sorted(rng.sample(pool, min(delete, len(pool))))
        for workflow_id in deleted:
            self.delete_workflow(workflow_id)
        updated = sorted(rng.sample(self.order, min(update, len(self.order))))
        for workflow_id in updated:
            self.random_update(workflow_id, rng)
        added = [
            self.add_workflow(tasks=task_count_around(rng, self.mean_tasks), active=rng.random() >= 0.05, seed=seed)
            for _ in range(add)
        ]
        return MutationOutcome(added=added, updated=updated, deleted=deleted)

    def set_export(self, workflow_id: int, export: dict) -> None:
        """Replace the served export of the workflow's active (else latest) version, as an edit in
        Zuora's workflow editor would: tasks, parameters, linkages and settings as given."""
        definition = self.definitions[workflow_id]
        target = definition.active_version() or definition.latest_version()
        if target is None:
            raise ValueError(f"workflow {workflow_id} has no version to edit")
        if not isinstance(export, dict) or not isinstance(export.get("tasks", []), list):
            raise ValueError('export must be an object like {"workflow": {...}, "tasks": [...], "linkages": [...]}')
        export = copy.deepcopy(export)
        workflow = export.setdefault("workflow", {})
        workflow["id"] = target.id
        target.export_override = export
        target.task_count = len(export.get("tasks") or [])
        target.updated_at = max(now_ms(), target.updated_at + 1)
        self._touch(definition)

    def copy_workflow_from(self, source: Tenant, workflow_id: int) -> int:
        """Import a copy of ``source``'s workflow, as Zuora's import does: new workflow, version
        and task ids, everything else (names, parameters, linkages, settings) as it was."""
        original = source.definitions[workflow_id]
        version = original.active_version() or original.latest_version()
        if version is None:
            raise ValueError(f"workflow {workflow_id} of {source.name} has no version to copy")
        export = copy.deepcopy(source.export_document(version))
        created = now_ms()
        definition = copy.deepcopy(original)
        definition.id = self.ids.workflow_id()
        definition.created_at = definition.updated_at = created
        copied = copy.deepcopy(version)
        copied.id = self.ids.workflow_id()
        copied.version = "0.0.1"
        copied.created_at = copied.updated_at = created
        tasks = export.get("tasks") or []
        copied.task_id_base = self.ids.task_block(len(tasks))
        new_ids = {task["id"]: copied.task_id_base + n for n, task in enumerate(tasks)}
        for task in tasks:
            task["id"] = new_ids[task["id"]]
            if task.get("task_id") is not None:
                task["task_id"] = new_ids.get(task["task_id"], task["task_id"])
        for link in export.get("linkages") or []:
            if link.get("source_workflow_id") is not None:
                link["source_workflow_id"] = copied.id
            for key in ("source_task_id", "target_task_id"):
                if link.get(key) is not None:
                    link[key] = new_ids.get(link[key], link[key])
        export["workflow"]["id"] = copied.id
        export["workflow"]["version"] = copied.version
        copied.export_override = export
        definition.versions = [copied]
        definition.active_version_id = copied.id if original.active_version_id is not None else None
        self.definitions[definition.id] = definition
        self.order.append(definition.id)
        return definition.id

    def export_document(self, version: Version) -> dict:
        return build_export(version)

    def _rename(self, definition: WorkflowDef, name: str, description: str) -> None:
        definition.name = name
        definition.description = description
        target = definition.active_version() or definition.latest_version()
        if target is not None:
            target.name = name
            target.description = description
            target.updated_at = max(now_ms(), target.updated_at + 1)

    def _publish_version(self, definition: WorkflowDef, tasks: int, rng: random.Random) -> None:
        """Add a new version; it becomes active when the definition had one (a republish)."""
        version = new_version(rng, self.ids, definition, tasks, created=max(now_ms(), definition.updated_at + 1))
        definition.versions.append(version)
        if definition.active_version_id is not None:
            definition.active_version_id = version.id
