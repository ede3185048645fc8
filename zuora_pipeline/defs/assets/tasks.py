"""The tasks stage of a sync: ``zuora/workflow_tasks``, extracted from the stored exports; never
calls Zuora."""

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.defs.failures import customer_step
from zuora_pipeline.defs.keys import GROUP, WORKFLOW_TASKS, WORKFLOWS
from zuora_pipeline.defs.partitions import customers_partitions
from zuora_pipeline.sync.extract import extract_tasks
from zuora_pipeline.warehouse.customers import Customer

SPEC = dg.AssetSpec(
    WORKFLOW_TASKS,
    deps=[WORKFLOWS],
    partitions_def=customers_partitions,
    skippable=True,
    group_name=GROUP,
    kinds={"sql"},
    description="The tasks inside each workflow's export (table tasks); tasks that left their "
    "workflow's export are removed. Reads only the warehouse.",
)


def tasks_stage(
    engine: sa.Engine, customer: Customer, *, run_id: str, everything: bool
) -> tuple[list[dg.MaterializeResult | dg.AssetCheckResult], str]:
    with customer_step(engine, customer, run_id):
        result = extract_tasks(engine, customer=customer, everything=everything, run_id=run_id)
    materialization = dg.MaterializeResult(
        asset_key=WORKFLOW_TASKS,
        metadata={
            "customer": customer.name,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "deleted": result.deleted,
            "total": result.total,
            "errors": 0,
            "workflows_extracted": result.workflows,
            "upserted": result.upserted,
            "api_calls": 0,  # tasks come from the stored exports, never from Zuora
            "retries": 0,
            "duration_s": round(result.duration_s, 3),
            "dagster/partition_row_count": result.total,
            "dagster/table_name": "tasks",
        },
    )
    line = (
        f"{customer.name}: tasks of {result.workflows} workflows extracted "
        f"({result.upserted} upserted, {result.deleted} removed)"
    )
    return [materialization], line
