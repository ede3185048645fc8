"""The checks that judge one customer's sync, and their bodies.

Each check is evaluated inside the customer's sync, right after the stage it judges; a failed
blocking check stops the sync before the stages it guards (``sync/customer.py``). The Dagster layer
declares one asset check per entry of ``CHECKS`` and records each outcome on the customer's
partition.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from zuora_pipeline.sync.apply import WorkflowsResult
from zuora_pipeline.sync.fetch import FetchResult
from zuora_pipeline.sync.results import WORKFLOW_EXPORTS, WORKFLOW_PAGES, WORKFLOW_TASKS, WORKFLOWS, CheckOutcome
from zuora_pipeline.warehouse import customers, quality, sync_runs
from zuora_pipeline.warehouse.customers import Customer

MIN_EXPORT_COVERAGE = 0.995


@dataclass(frozen=True)
class Check:
    name: str
    asset: str
    description: str
    blocking: bool = False


CHECKS = (
    Check(
        "customer_active",
        WORKFLOW_PAGES,
        "The customer is active; a paused one is not synced (no Zuora call) until "
        "`zuora-pipeline customers resume NAME`.",
    ),
    Check(
        "pagination_complete",
        WORKFLOW_PAGES,
        "The walk followed next_page to the end with no loop and no duplicate id.",
        blocking=True,
    ),
    Check(
        "export_coverage",
        WORKFLOW_EXPORTS,
        f"At least {MIN_EXPORT_COVERAGE:.1%} of listed workflows with an active version have a current export.",
    ),
    Check(
        "exports_parse",
        WORKFLOW_EXPORTS,
        "Every export this sync needed parsed as JSON of the export shape, after the in-run re-fetches of "
        "malformed bodies (those still malformed keep their last good export).",
    ),
    Check(
        "shrink_guard",
        WORKFLOWS,
        "The sync did not have to hold back a mass deletion (more than max_delete_share of the live "
        "workflows) waiting for an operator's confirmation.",
        blocking=True,
    ),
    Check(
        "matches_listing",
        WORKFLOWS,
        "The live workflows are exactly the workflows of the last complete listing.",
        blocking=True,
    ),
    Check("no_duplicate_workflows", WORKFLOWS, "No (customer, zuora_id) appears twice.", blocking=True),
    Check(
        "required_fields_present",
        WORKFLOWS,
        "Every live workflow has a name, and an export when it has an active version.",
    ),
    Check("task_counts_match_exports", WORKFLOW_TASKS, "Each workflow has as many tasks as its stored export."),
)
CHECK_ASSET = {check.name: check.asset for check in CHECKS}
BLOCKING = frozenset(check.name for check in CHECKS if check.blocking)


def _outcome(
    name: str, passed: bool, customer: Customer, *, warn_only: bool = False, **metadata: object
) -> CheckOutcome:
    return CheckOutcome(CHECK_ASSET[name], name, passed, {"customer": customer.name, **metadata}, warn_only=warn_only)


def customer_active(customer: Customer) -> CheckOutcome:
    if customer.sync_status != customers.PAUSED:
        return _outcome("customer_active", True, customer)
    reason = customer.paused_reason or sync_runs.OPERATOR_PAUSE_REASON
    return CheckOutcome(
        WORKFLOW_PAGES,
        "customer_active",
        passed=False,
        warn_only=True,
        description=f"paused: {reason}; run `zuora-pipeline customers resume {customer.name}`",
        metadata={
            "customer": customer.name,
            "paused_reason": reason,
            "last_successful_sync": customer.last_synced_at.isoformat() if customer.last_synced_at else "never",
        },
    )


def fetch_checks(customer: Customer, result: FetchResult) -> list[CheckOutcome]:
    return [
        _outcome(
            "pagination_complete",
            result.pagination_complete,
            customer,
            pages=result.pages,
            listed=result.listed,
            distinct_ids=result.distinct_ids,
        ),
        _outcome(
            "export_coverage",
            result.coverage >= MIN_EXPORT_COVERAGE,
            customer,
            coverage=round(result.coverage, 6),
            failed_exports=result.errors,
        ),
        _outcome(
            "exports_parse",
            result.malformed_exports == 0,
            customer,
            warn_only=True,
            malformed_exports=result.malformed_exports,
        ),
        customer_active(customer),
    ]


def shrink_guard(customer: Customer, result: WorkflowsResult) -> CheckOutcome:
    return CheckOutcome(
        WORKFLOWS,
        "shrink_guard",
        passed=result.shrink_guard_message is None,
        description=result.shrink_guard_message,
        metadata={
            "customer": customer.name,
            "deletions_withheld": len(result.withheld_ids),
            "live_before": result.live_before,
        },
    )


def workflows_checks(conn: sa.Connection, customer: Customer) -> list[CheckOutcome]:
    listed = quality.listed_ids(conn, customer.id)
    live = quality.live_ids(conn, customer.id)
    duplicates = quality.duplicate_workflows(conn, customer.id)
    missing = quality.missing_required(conn, customer.id)
    not_stored = sorted(set(listed) - set(live))
    not_listed = sorted(set(live) - set(listed))
    return [
        _outcome(
            "matches_listing",
            not not_stored and not not_listed and len(listed) == len(set(listed)),
            customer,
            listed=len(listed),
            live=len(live),
            listed_not_stored=len(not_stored),
            stored_not_listed=len(not_listed),
            sample={"not_stored": not_stored[:10], "not_listed": not_listed[:10]},
        ),
        _outcome("no_duplicate_workflows", duplicates == 0, customer, duplicates=duplicates),
        _outcome("required_fields_present", missing == 0, customer, rows_missing_fields=missing),
    ]


def tasks_checks(conn: sa.Connection, customer: Customer) -> list[CheckOutcome]:
    mismatches = quality.task_count_mismatches(conn, customer.id)
    return [
        _outcome(
            "task_counts_match_exports",
            not mismatches,
            customer,
            mismatched_workflows=len(mismatches),
            sample=[list(m) for m in mismatches[:10]],
        )
    ]
