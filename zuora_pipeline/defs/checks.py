"""Asset checks on the normalized tables.

Checks that judge one customer are evaluated inside that customer's sync, right after the stage
they judge, and stored per customer partition, so the Checks tab shows each customer's own latest
result (and a run of many customers records each one's). The fleet-wide checks (every customer's
freshness, orphan tasks) target ``zuora/fleet`` and run on their own schedule, never inside a
customer's run.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.audit.freshness import CustomerSync, freshness, paused_table, stale_table
from zuora_pipeline.defs.keys import FLEET, WORKFLOW_TASKS, WORKFLOWS
from zuora_pipeline.defs.partitions import customer_check
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.warehouse import quality
from zuora_pipeline.warehouse.customers import Customer

FRESHNESS = timedelta(hours=2)


WORKFLOWS_CHECK_SPECS = [
    customer_check(
        "matches_listing",
        asset=WORKFLOWS,
        blocking=True,
        description="The live workflows are exactly the workflows of the last complete listing.",
    ),
    customer_check(
        "no_duplicate_workflows",
        asset=WORKFLOWS,
        blocking=True,
        description="No (customer, zuora_id) appears twice.",
    ),
    customer_check(
        "required_fields_present",
        asset=WORKFLOWS,
        description="Every live workflow has a name, and an export when it has an active version.",
    ),
]

TASKS_CHECK_SPECS = [
    customer_check(
        "task_counts_match_exports",
        asset=WORKFLOW_TASKS,
        description="Each workflow has as many tasks as its stored export.",
    )
]


def workflows_checks(engine: sa.Engine, customer: Customer) -> Iterator[dg.AssetCheckResult]:
    with engine.connect() as conn:
        listed = quality.listed_ids(conn, customer.id)
        live = quality.live_ids(conn, customer.id)
        duplicates = quality.duplicate_workflows(conn, customer.id)
        missing = quality.missing_required(conn, customer.id)
    not_stored = sorted(set(listed) - set(live))
    not_listed = sorted(set(live) - set(listed))
    yield dg.AssetCheckResult(
        asset_key=WORKFLOWS,
        check_name="matches_listing",
        passed=not not_stored and not not_listed and len(listed) == len(set(listed)),
        metadata={
            "customer": customer.name,
            "listed": len(listed),
            "live": len(live),
            "listed_not_stored": len(not_stored),
            "stored_not_listed": len(not_listed),
            "sample": dg.MetadataValue.json({"not_stored": not_stored[:10], "not_listed": not_listed[:10]}),
        },
    )
    yield dg.AssetCheckResult(
        asset_key=WORKFLOWS,
        check_name="no_duplicate_workflows",
        passed=duplicates == 0,
        metadata={"customer": customer.name, "duplicates": duplicates},
    )
    yield dg.AssetCheckResult(
        asset_key=WORKFLOWS,
        check_name="required_fields_present",
        passed=missing == 0,
        metadata={"customer": customer.name, "rows_missing_fields": missing},
    )


def tasks_checks(engine: sa.Engine, customer: Customer) -> Iterator[dg.AssetCheckResult]:
    with engine.connect() as conn:
        mismatches = quality.task_count_mismatches(conn, customer.id)
    yield dg.AssetCheckResult(
        asset_key=WORKFLOW_TASKS,
        check_name="task_counts_match_exports",
        passed=not mismatches,
        metadata={
            "customer": customer.name,
            "mismatched_workflows": len(mismatches),
            "sample": dg.MetadataValue.json([list(m) for m in mismatches[:10]]),
        },
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "customers_fresh",
            asset=FLEET,
            description=f"Every active customer synced successfully within the last "
            f"{int(FRESHNESS.total_seconds() // 3600)} h; the stale ones are named in a table. "
            "Paused customers are listed apart and do not fail it.",
        ),
        dg.AssetCheckSpec(
            "no_orphan_tasks",
            asset=FLEET,
            description="Every task belongs to a stored workflow.",
        ),
    ],
)
def fleet_checks(warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
    now = datetime.now(UTC)
    with warehouse.engine().connect() as conn:
        syncs = [CustomerSync(*row) for row in quality.customer_syncs(conn)]
        orphans = quality.orphan_tasks(conn)
    report = freshness(syncs, now, FRESHNESS)
    stale_names = ", ".join(c.name for c in report.stale[:10]) + (" ..." if len(report.stale) > 10 else "")
    yield dg.AssetCheckResult(
        check_name="customers_fresh",
        passed=not report.stale,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(report.stale)} of {report.active} active customers stale: {stale_names}"
            if report.stale
            else f"all {report.active} active customers synced within {FRESHNESS}"
        ),
        metadata={
            "stale_customers": len(report.stale),
            "active_customers": report.active,
            "paused_customers": len(report.paused),
            "stale": dg.MetadataValue.md(stale_table(report, now)),
            "paused": dg.MetadataValue.md(paused_table(report)),
        },
    )
    yield dg.AssetCheckResult(check_name="no_orphan_tasks", passed=orphans == 0, metadata={"orphan_tasks": orphans})
