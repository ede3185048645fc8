"""Listing vs stored rows -> created / updated / unchanged / deleted (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from zuora_pipeline.logic.stats import Stats


@dataclass(frozen=True)
class StoredWorkflow:
    zuora_id: int
    row_hash: str | None
    deleted: bool


@dataclass
class WorkflowDiff:
    created: list[int] = field(default_factory=list)
    restored: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)

    @property
    def to_write(self) -> list[int]:
        return self.created + self.restored + self.updated

    def stats(self) -> Stats:
        """The rows' counts. A workflow that reappears is reported as created: it is new to the
        live mirror."""
        created = len(self.created) + len(self.restored)
        return Stats(
            created=created,
            updated=len(self.updated),
            unchanged=len(self.unchanged),
            deleted=len(self.deleted),
            total=created + len(self.updated) + len(self.unchanged),
        )


def diff_workflows(listed_hashes: Mapping[int, str], stored: Iterable[StoredWorkflow]) -> WorkflowDiff:
    """``listed_hashes`` maps every listed zuora id to the hash its row would have now."""
    result = WorkflowDiff()
    stored_by_id = {row.zuora_id: row for row in stored}
    for zuora_id, new_hash in listed_hashes.items():
        row = stored_by_id.get(zuora_id)
        if row is None:
            result.created.append(zuora_id)
        elif row.deleted:
            result.restored.append(zuora_id)
        elif row.row_hash != new_hash:
            result.updated.append(zuora_id)
        else:
            result.unchanged.append(zuora_id)
    result.deleted = [
        zuora_id for zuora_id, row in stored_by_id.items() if not row.deleted and zuora_id not in listed_hashes
    ]
    return result


def mass_delete_refused(deleted: int, live_before: int, max_share: float) -> bool:
    """The shrink guard: one sync may not soft-delete more than ``max_share`` of the live rows.

    A listing that suddenly comes back empty or halved (a permissions change, a Zuora incident)
    looks exactly like mass deletion; an operator must confirm that it is real.
    """
    if deleted == 0 or live_before == 0:
        return False
    return deleted / live_before > max_share
