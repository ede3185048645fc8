"""The workflows stage of a sync: ``zuora/workflows``, normalized rows from the complete listing and
the last good exports, with the shrink guard."""

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.defs.failures import customer_step
from zuora_pipeline.defs.history_metadata import history_metadata
from zuora_pipeline.defs.keys import GROUP, WORKFLOW_EXPORTS, WORKFLOW_PAGES, WORKFLOWS
from zuora_pipeline.defs.partitions import customer_check, customers_partitions
from zuora_pipeline.sync.apply import apply_listing
from zuora_pipeline.warehouse import sync_runs
from zuora_pipeline.warehouse.customers import Customer

SPEC = dg.AssetSpec(
    WORKFLOWS,
    deps=[WORKFLOW_PAGES, WORKFLOW_EXPORTS],
    partitions_def=customers_partitions,
    skippable=True,
    group_name=GROUP,
    kinds={"sql"},
    description="One row per Zuora workflow of the customer (table workflows); vanished ones are "
    "soft-deleted after a complete listing and restored when they reappear.",
)

CHECK_SPECS = [
    customer_check(
        "shrink_guard",
        asset=WORKFLOWS,
        blocking=True,
        description="The sync did not have to hold back a mass deletion (more than "
        "max_delete_share of the live workflows) waiting for an operator's confirmation.",
    )
]


def workflows_stage(
    engine: sa.Engine,
    customer: Customer,
    *,
    run_id: str,
    allow_mass_delete: bool,
    max_delete_share: float,
) -> tuple[list[dg.MaterializeResult | dg.AssetCheckResult], str]:
    with customer_step(engine, customer, run_id):
        result = apply_listing(
            engine,
            customer,
            run_id=run_id,
            allow_mass_delete=allow_mass_delete,
            max_delete_share=max_delete_share,
        )
    with engine.connect() as conn:
        record = sync_runs.for_run(conn, customer.id, run_id) or {}
    materialization = dg.MaterializeResult(
        asset_key=WORKFLOWS,
        metadata={
            "customer": customer.name,
            **result.stats(),
            "errors": int(record.get("errors") or 0),
            "api_calls": int(record.get("api_calls") or 0),
            "retries": int(record.get("retries") or 0),
            "exports_applied": result.exports_applied,
            "deletions_withheld": len(result.withheld_ids),
            **history_metadata(result.history),
            "duration_s": round(result.duration_s, 3),
            "dagster/partition_row_count": result.total,
            "dagster/table_name": "workflows",
        },
    )
    guard = dg.AssetCheckResult(
        asset_key=WORKFLOWS,
        check_name="shrink_guard",
        passed=result.shrink_guard_message is None,
        description=result.shrink_guard_message,
        metadata={
            "customer": customer.name,
            "deletions_withheld": len(result.withheld_ids),
            "live_before": result.live_before,
        },
    )
    return [materialization, guard], f"{customer.name}: {result.stats()}"
