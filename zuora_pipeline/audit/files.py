"""A customer's workflows as files for git: one canonical JSON file per workflow plus an index.

Each file is the workflow's stored export with its keys sorted, indented by two spaces, UTF-8,
ending in a newline, named ``<zuora id>-<slug of the name>.json``. The index (``index.json``) maps
each Zuora id to its file, with the workflow's name, state, version and task count, sorted by id
and with no timestamps. A file whose bytes would not change is not written at all (its mtime stays),
so exporting again with no change leaves the directory as it was and ``git status`` clean. A file
is replaced atomically (written beside it, then renamed), so an interrupted export never leaves a
half-written file. Files a previous export wrote (those its index lists) that no longer belong
there, because the workflow was renamed or is gone from a complete export, are removed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INDEX_NAME = "index.json"
SLUG_LENGTH = 60


class ExportFilesError(ValueError):
    """The directory cannot take this export (it holds another customer's index, or is a file)."""


@dataclass(frozen=True)
class WorkflowDocument:
    """A live workflow of the customer and its stored export (None: Zuora has no active version)."""

    zuora_id: int
    name: str
    state: str | None
    active_version: str | None
    export: dict[str, Any] | None


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    without_export: list[int] = field(default_factory=list)


def slug(name: str) -> str:
    """``"Invoice sync #2 (EU)"`` -> ``"invoice-sync-2-eu"``: ASCII letters and digits joined by dashes."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return text[:SLUG_LENGTH].rstrip("-") or "workflow"


def file_name(zuora_id: int, name: str) -> str:
    return f"{zuora_id}-{slug(name)}.json"


def canonical_json(document: Any) -> bytes:
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_if_changed(path: Path, content: bytes) -> bool:
    """Write ``content`` unless the file holds exactly these bytes; True if it was written."""
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def _previous_index(directory: Path, customer: str) -> dict[int, dict[str, Any]]:
    path = directory / INDEX_NAME
    if not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = {int(entry["id"]): entry for entry in document["workflows"]}
        owner = document["customer"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ExportFilesError(f"{path} is not an index this command wrote ({exc}): choose another directory") from None
    if owner != customer:
        raise ExportFilesError(f"{directory} holds the workflows of customer {owner!r}: choose another directory")
    return entries


def export_files(
    directory: Path, customer: str, workflows: Iterable[WorkflowDocument], *, complete: bool
) -> ExportReport:
    """Write the files of ``workflows`` and the index into ``directory`` (created if missing).

    ``complete``: these are all the customer's live workflows, so files of workflows not among
    them are removed; otherwise (a chosen few) the index keeps the other workflows' entries."""
    if directory.exists() and not directory.is_dir():
        raise ExportFilesError(f"{directory} is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    previous = _previous_index(directory, customer)
    index = {} if complete else dict(previous)
    report = ExportReport()
    for workflow in workflows:
        name = file_name(workflow.zuora_id, workflow.name) if workflow.export is not None else None
        tasks = (workflow.export or {}).get("tasks")
        index[workflow.zuora_id] = {
            "id": workflow.zuora_id,
            "name": workflow.name,
            "state": workflow.state,
            "version": workflow.active_version,
            "tasks": len(tasks) if isinstance(tasks, list) else None,
            "file": name,
        }
        if name is None:
            report.without_export.append(workflow.zuora_id)
            continue
        written = write_if_changed(directory / name, canonical_json(workflow.export))
        (report.written if written else report.unchanged).append(name)
    kept = {entry["file"] for entry in index.values() if entry["file"]}
    for entry in previous.values():
        stale = entry.get("file")
        if stale and stale not in kept and Path(stale).name == stale and (directory / stale).is_file():
            (directory / stale).unlink()
            report.removed.append(stale)
    document = {"customer": customer, "workflows": [index[zid] for zid in sorted(index)]}
    if write_if_changed(directory / INDEX_NAME, canonical_json(document)):
        report.written.append(INDEX_NAME)
    return report
