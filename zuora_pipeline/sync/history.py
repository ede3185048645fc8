"""History of a sync: new revisions and the change log, written in the transaction of step 3.

Called by ``apply_listing`` on its own connection, after the ``workflows`` rows are written and
before it commits: the current state and its history commit together or not at all. A workflow
gets a revision only when its export or what the listing says about it (name, description,
status, Zuora version) changed, so an unchanged sync adds no rows; a listing entry whose
``updatedAt`` moved with nothing else counts as ``updated`` in the sync's stats but is no change
of the definition, so it is not logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from zuora_pipeline.logic.listing_diff import WorkflowDiff
from zuora_pipeline.logic.normalize import WorkflowRow
from zuora_pipeline.logic.workflow_diff import diff_states
from zuora_pipeline.warehouse import history
from zuora_pipeline.warehouse import workflows as workflow_table
from zuora_pipeline.warehouse.history import Identity

CHANGE_KINDS = ("created", "updated", "deleted", "restored")
COUNT_COLUMNS = ("tasks_added", "tasks_removed", "tasks_changed", "linkages_changed", "settings_changed")


@dataclass(frozen=True)
class LoggedChange:
    workflow_id: int
    workflow_name: str
    change: str
    summary: str


@dataclass
class HistoryResult:
    revisions_added: int = 0
    changes: list[LoggedChange] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {f"history_{kind}": 0 for kind in CHANGE_KINDS}
        for change in self.changes:
            counts[f"history_{change.change}"] += 1
        counts["history_revisions_added"] = self.revisions_added
        return counts


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def record_history(
    conn: sa.Connection,
    customer_id: int,
    *,
    run_id: str,
    at: datetime,
    listed: Mapping[int, WorkflowRow],
    export_hashes: Mapping[int, str],
    diff: WorkflowDiff,
) -> HistoryResult:
    """``diff.deleted`` must hold only the deletions this sync applied (not withheld ones)."""
    result = HistoryResult()
    newest = history.latest(conn, customer_id)
    restored = set(diff.restored)
    revised: list[int] = []
    for zuora_id, row in listed.items():
        identity = Identity(row.name, row.description, row.state, row.active_version, export_hashes.get(zuora_id))
        known = newest.get(zuora_id)
        if known is None or known.identity != identity:
            revised.append(zuora_id)
    history.add_revisions(conn, customer_id, revised, run_id=run_id, at=at)
    result.revisions_added = len(revised)

    previous = {zid: newest[zid].revision for zid in revised if zid in newest}
    old_states = history.revision_states(conn, customer_id, list(previous.items()))
    new_states = workflow_table.current_states(conn, customer_id, list(previous))
    task_counts = history.current_task_counts(conn, customer_id, [z for z in revised if z not in previous])
    rows: list[dict[str, object]] = []

    def log(zuora_id: int, name: str, change: str, summary: str, counts: dict[str, int], revision: int | None) -> None:
        prior = newest.get(zuora_id)
        rows.append(
            {
                "customer_id": customer_id,
                "workflow_zuora_id": zuora_id,
                "workflow_name": name,
                "change": change,
                "revision": revision,
                "previous_revision": None if prior is None or revision == prior.revision else prior.revision,
                "summary": summary,
                **dict.fromkeys(COUNT_COLUMNS, 0),
                **counts,
                "run_id": run_id,
                "changed_at": at,
            }
        )
        result.changes.append(LoggedChange(zuora_id, name, change, summary))

    for zuora_id in revised:
        name = listed[zuora_id].name
        if zuora_id not in previous:
            count = task_counts.get(zuora_id)
            summary = "no export (no active version)" if count is None else _plural(count, "task")
            log(zuora_id, name, "created", summary, {}, 1)
            continue
        old_export, old_state = old_states.get((zuora_id, previous[zuora_id]), (None, None))
        new_export, new_state = new_states.get(zuora_id, (None, None))
        changes = diff_states(old_export, new_export, old_state=old_state, new_state=new_state)
        summary = changes.summary()
        if old_export is not None and new_export is not None and changes.identical:
            summary = "only the Zuora version, ids or canvas positions changed"
        kind = "restored" if zuora_id in restored else "updated"
        log(zuora_id, name, kind, summary, changes.counts(), previous[zuora_id] + 1)
    for zuora_id in sorted(restored - set(revised)):
        known = newest.get(zuora_id)
        log(
            zuora_id,
            listed[zuora_id].name,
            "restored",
            "listed again, unchanged",
            {},
            known.revision if known else None,
        )
    for zuora_id in diff.deleted:
        known = newest.get(zuora_id)
        name = known.identity.name if known else str(zuora_id)
        log(
            zuora_id, name, "deleted", "no longer listed by Zuora (soft-deleted)", {}, known.revision if known else None
        )
    history.add_changes(conn, rows)
    history.mark_seen(conn, customer_id, run_id=run_id, at=at)
    return result
