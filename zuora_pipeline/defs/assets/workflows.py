"""``zuora/workflows``: normalized rows from the complete listing and the last good exports."""

import dagster as dg

from zuora_pipeline.defs.failures import customer_step, load_customer
from zuora_pipeline.defs.history_metadata import history_metadata
from zuora_pipeline.defs.keys import GROUP, WORKFLOW_EXPORTS, WORKFLOW_PAGES, WORKFLOWS
from zuora_pipeline.defs.partitions import customer_check, customers_partitions
from zuora_pipeline.defs.policies import WAREHOUSE_RETRY_POLICY
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.steps.workflows import DEFAULT_MAX_DELETE_SHARE, apply_listing
from zuora_pipeline.warehouse import sync_state


class WorkflowsConfig(dg.Config):
    allow_mass_delete: bool = False
    """Let this sync soft-delete more than max_delete_share of the customer's workflows."""
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE


@dg.asset(
    key=WORKFLOWS,
    deps=[WORKFLOW_PAGES, WORKFLOW_EXPORTS],
    partitions_def=customers_partitions,
    group_name=GROUP,
    kinds={"sql"},
    retry_policy=WAREHOUSE_RETRY_POLICY,
    check_specs=[
        customer_check(
            "shrink_guard",
            asset=WORKFLOWS,
            blocking=True,
            description="The sync did not have to hold back a mass deletion (more than "
            "max_delete_share of the live workflows) waiting for an operator's confirmation.",
        )
    ],
    description="One row per Zuora workflow of the customer (table workflows); vanished ones are "
    "soft-deleted after a complete listing and restored when they reappear.",
)
def workflows_asset(
    context: dg.AssetExecutionContext, config: WorkflowsConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    engine = warehouse.engine()
    customer = load_customer(engine, context.partition_key)
    run_id = context.run.run_id
    with customer_step(engine, customer, run_id):
        result = apply_listing(
            engine,
            customer,
            run_id=run_id,
            allow_mass_delete=config.allow_mass_delete,
            max_delete_share=config.max_delete_share,
        )
    with engine.connect() as conn:
        record = sync_state.for_run(conn, customer.id, run_id) or {}
    context.log.info(f"{customer.name}: {result.stats()}")
    guard = dg.AssetCheckResult(
        check_name="shrink_guard",
        passed=result.shrink_guard_message is None,
        description=result.shrink_guard_message,
        metadata={
            "customer": customer.name,
            "deletions_withheld": len(result.withheld_ids),
            "live_before": result.live_before,
        },
    )
    return dg.MaterializeResult(
        check_results=[guard],
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
