"""``zuora/workflow_tasks``: tasks extracted from the stored exports; never calls Zuora."""

import dagster as dg

from zuora_pipeline.defs.failures import customer_step, load_customer
from zuora_pipeline.defs.keys import GROUP, WORKFLOW_TASKS, WORKFLOWS
from zuora_pipeline.defs.partitions import customers_partitions
from zuora_pipeline.defs.policies import WAREHOUSE_RETRY_POLICY
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.steps.tasks import extract_tasks


class TasksConfig(dg.Config):
    reextract_all: bool = False
    """Re-extract every workflow's tasks, not only those whose export changed."""


@dg.asset(
    key=WORKFLOW_TASKS,
    deps=[WORKFLOWS],
    partitions_def=customers_partitions,
    group_name=GROUP,
    kinds={"sql"},
    retry_policy=WAREHOUSE_RETRY_POLICY,
    description="The tasks inside each workflow's export (table tasks); tasks that left their "
    "workflow's export are removed. Reads only the warehouse.",
)
def workflow_tasks_asset(
    context: dg.AssetExecutionContext, config: TasksConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    engine = warehouse.engine()
    customer = load_customer(engine, context.partition_key)
    run_id = context.run.run_id
    with customer_step(engine, customer, run_id):
        result = extract_tasks(engine, customer=customer, everything=config.reextract_all, run_id=run_id)
    context.log.info(
        f"{customer.name}: tasks of {result.workflows} workflows extracted "
        f"({result.upserted} upserted, {result.deleted} removed)"
    )
    return dg.MaterializeResult(
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
        }
    )
