"""Step 3 of a sync: apply the stored complete listing to the ``workflows`` table.

Reads only the warehouse (the listing and exports landed by step 1+2), so it makes no API call.
Soft-deletes only against a complete listing, and refuses a sudden mass deletion unless the
operator allowed it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from zuora_pipeline.logic.listing_diff import StoredWorkflow, diff_workflows, mass_delete_refused
from zuora_pipeline.logic.normalize import WorkflowRow, workflow_row
from zuora_pipeline.logic.stats import Stats
from zuora_pipeline.sync.history import HistoryResult, record_history
from zuora_pipeline.warehouse import raw
from zuora_pipeline.warehouse import workflows as workflow_table
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline.zuora.models import WorkflowListItem, parse_list_item

DEFAULT_MAX_DELETE_SHARE = 0.5


class NoListingError(RuntimeError):
    """There is no complete listing to apply yet."""


@dataclass
class WorkflowsResult:
    counts: Stats = field(default_factory=Stats)  # the rows: created, updated, unchanged, deleted, total
    exports_applied: int = 0
    live_before: int = 0
    # The shrink guard held these deletions back (see shrink_guard_message).
    withheld_ids: list[int] = field(default_factory=list)
    shrink_guard_message: str | None = None
    # This sync's revisions and change log, committed with the rows above.
    history: HistoryResult = field(default_factory=HistoryResult)
    duration_s: float = 0.0


def _listed_items(conn: sa.Connection, customer: Customer) -> list[WorkflowListItem]:
    items: list[WorkflowListItem] = []
    for body in raw.iter_page_bodies(conn, customer.id):
        for entry in json.loads(body).get("data") or []:
            items.append(parse_list_item(entry, customer=customer.name, endpoint="GET /workflows"))
    return items


def apply_listing(
    engine: sa.Engine,
    customer: Customer,
    *,
    run_id: str,
    allow_mass_delete: bool = False,
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE,
    on_commit: Callable[[sa.Connection, WorkflowsResult], None] | None = None,
) -> WorkflowsResult:
    """The caller holds the customer's sync lock. The rows, their history and what ``on_commit``
    writes with them (the sync record) commit together."""
    started = time.monotonic()
    now = datetime.now(UTC)
    result = WorkflowsResult()
    with write_transaction(engine) as conn:
        page_count, _ = raw.page_stats(conn, customer.id)
        if page_count == 0:
            raise NoListingError(
                f"customer {customer.name!r} has no complete workflow listing yet: materialize "
                "zuora/workflow_pages (the sync_customer_workflows job) first"
            )
        items = _listed_items(conn, customer)
        export_hashes = raw.export_hashes(conn, customer.id)
        rows: dict[int, WorkflowRow] = {}
        hashes: dict[int, str] = {}
        entries: dict[int, dict] = {}
        for item in items:
            row = workflow_row(item)
            rows[row.zuora_id] = row
            hashes[row.zuora_id] = row.content_hash(export_hashes.get(row.zuora_id))
            entries[row.zuora_id] = item.model_dump(mode="json", by_alias=True, exclude_none=False)

        stored = [StoredWorkflow(z, h, d) for z, h, d in workflow_table.stored(conn, customer.id)]
        diff = diff_workflows(hashes, stored)
        result.live_before = sum(1 for s in stored if not s.deleted)
        if not allow_mass_delete and mass_delete_refused(len(diff.deleted), result.live_before, max_delete_share):
            # A listing that suddenly shrinks is far more often a permissions change or a Zuora
            # incident than a mass deletion: apply everything else, hold the deletions back and
            # let the shrink_guard check fail the run until an operator confirms.
            result.withheld_ids, diff.deleted = diff.deleted, []
            result.shrink_guard_message = (
                f"customer {customer.name!r}: the listing would soft-delete "
                f"{len(result.withheld_ids)} of {result.live_before} workflows (more than "
                f"{max_delete_share:.0%}); nothing was deleted. If Zuora really lost them, run "
                f"`zuora-pipeline sync --customer {customer.name} --force --allow-mass-delete`; "
                "otherwise check the API user's Workflow permissions."
            )

        workflow_table.upsert_rows(
            conn,
            [
                {
                    "customer_id": customer.id,
                    "zuora_id": zuora_id,
                    "name": rows[zuora_id].name,
                    "description": rows[zuora_id].description,
                    "state": rows[zuora_id].state,
                    "active_version": rows[zuora_id].active_version,
                    "created_on": rows[zuora_id].created_on,
                    "updated_on": rows[zuora_id].updated_on,
                    "list_entry": entries[zuora_id],
                    "row_hash": hashes[zuora_id],
                    "last_synced_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for zuora_id in diff.to_write
            ],
        )
        result.exports_applied = workflow_table.copy_exports(conn, customer.id)
        workflow_table.soft_delete(conn, customer.id, diff.deleted, now)
        workflow_table.mark_seen(conn, customer.id, now)
        result.history = record_history(
            conn, customer.id, run_id=run_id, at=now, listed=rows, export_hashes=export_hashes, diff=diff
        )

        result.counts = diff.stats()
        if on_commit is not None:
            on_commit(conn, result)
    result.duration_s = time.monotonic() - started
    return result
