"""Zuora list entries -> workflow rows, and the change fingerprint of a list entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zuora_pipeline.logic.hashing import digest
from zuora_pipeline.zuora.models import WorkflowListItem


@dataclass(frozen=True)
class WorkflowRow:
    """A normalized ``workflows`` row as the listing describes it (the export joins later)."""

    zuora_id: int
    name: str
    description: str | None
    state: str | None
    active_version: str | None
    created_on: datetime | None
    updated_on: datetime | None

    def content_hash(self, export_hash: str | None) -> str:
        """Hash of everything a sync writes for this row: unchanged hash, nothing to write."""
        return digest(
            [
                self.zuora_id,
                self.name,
                self.description,
                self.state,
                self.active_version,
                self.created_on,
                self.updated_on,
                export_hash,
            ]
        )


def active_version_string(item: WorkflowListItem) -> str | None:
    version = item.active_version
    if version is None:
        return None
    return version.version or (str(version.id) if version.id is not None else None)


def has_active_version(item: WorkflowListItem) -> bool:
    return item.active_version is not None


def workflow_row(item: WorkflowListItem) -> WorkflowRow:
    return WorkflowRow(
        zuora_id=int(item.id),
        name=item.name,
        description=item.description,
        state=item.status,
        active_version=active_version_string(item),
        created_on=item.created_at,
        updated_on=item.updated_at,
    )


def list_fingerprint(item: WorkflowListItem) -> str:
    """What decides whether a workflow must be exported again: its update time,
    its active version and its status. Anything else in the list entry cannot change the export."""
    version = item.active_version
    return digest(
        [
            item.updated_at,
            None if version is None else [version.id, version.version, version.status],
            item.status,
        ]
    )
