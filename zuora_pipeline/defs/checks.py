"""Asset checks on the normalized tables (the raw assets' checks run inside their step).

Checks record their result at asset level (no ``partitions_def``: partitioned checks are a
preview feature in Dagster 1.13); each result's metadata names the customer it looked at.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg

from zuora_pipeline.defs.failures import load_customer
from zuora_pipeline.defs.keys import WORKFLOW_TASKS, WORKFLOWS
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.warehouse import quality

FRESHNESS = timedelta(hours=2)


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "matches_listing",
            asset=WORKFLOWS,
            blocking=True,
            description="The live workflows are exactly the workflows of the last complete listing.",
        ),
        dg.AssetCheckSpec(
            "no_duplicate_workflows",
            asset=WORKFLOWS,
            blocking=True,
            description="No (customer, zuora_id) appears twice.",
        ),
        dg.AssetCheckSpec(
            "required_fields_present",
            asset=WORKFLOWS,
            description="Every live workflow has a name, and an export when it has an active version.",
        ),
        dg.AssetCheckSpec(
            "customers_fresh",
            asset=WORKFLOWS,
            description=f"Every active customer synced successfully within {FRESHNESS}.",
        ),
    ],
)
def workflows_checks(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    engine = warehouse.engine()
    customer = load_customer(engine, context.partition_key)
    with engine.connect() as conn:
        listed = quality.listed_ids(conn, customer.id)
        live = quality.live_ids(conn, customer.id)
        duplicates = quality.duplicate_workflows(conn, customer.id)
        missing = quality.missing_required(conn, customer.id)
        stale = quality.stale_customers(conn, datetime.now(UTC) - FRESHNESS)
    not_stored = sorted(set(listed) - set(live))
    not_listed = sorted(set(live) - set(listed))
    yield dg.AssetCheckResult(
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
        check_name="no_duplicate_workflows",
        passed=duplicates == 0,
        metadata={"customer": customer.name, "duplicates": duplicates},
    )
    yield dg.AssetCheckResult(
        check_name="required_fields_present",
        passed=missing == 0,
        metadata={"customer": customer.name, "rows_missing_fields": missing},
    )
    yield dg.AssetCheckResult(
        check_name="customers_fresh",
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"stale_customers": len(stale), "sample": dg.MetadataValue.json(stale[:20])},
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "task_counts_match_exports",
            asset=WORKFLOW_TASKS,
            description="Each workflow has as many tasks as its stored export.",
        ),
        dg.AssetCheckSpec(
            "no_orphan_tasks",
            asset=WORKFLOW_TASKS,
            description="Every task belongs to a stored workflow.",
        ),
    ],
)
def tasks_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
    engine = warehouse.engine()
    customer = load_customer(engine, context.partition_key)
    with engine.connect() as conn:
        mismatches = quality.task_count_mismatches(conn, customer.id)
        orphans = quality.orphan_tasks(conn)
    yield dg.AssetCheckResult(
        check_name="task_counts_match_exports",
        passed=not mismatches,
        metadata={
            "customer": customer.name,
            "mismatched_workflows": len(mismatches),
            "sample": dg.MetadataValue.json([list(m) for m in mismatches[:10]]),
        },
    )
    yield dg.AssetCheckResult(check_name="no_orphan_tasks", passed=orphans == 0, metadata={"orphan_tasks": orphans})
