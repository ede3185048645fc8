"""The fleet-wide checks: every active customer's freshness, and orphan tasks.

They target the fleet asset and run on their own schedule, never inside a customer's run. The
per-customer checks are evaluated inside each customer's sync (``sync/quality.py``).
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg

from zuora_pipeline.audit.freshness import CustomerSync, freshness, paused_table, stale_table
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.warehouse import quality


def build_fleet_checks(options: PipelineOptions) -> dg.AssetChecksDefinition:
    window = options.stale_after

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(
                "customers_fresh",
                asset=options.fleet_key,
                description=f"Every active customer synced successfully within the last {window}; the stale "
                "ones are named in a table (and alerted by stale_customer_alerts). Paused customers are listed "
                "apart and do not fail it.",
            ),
            dg.AssetCheckSpec(
                "no_orphan_tasks", asset=options.fleet_key, description="Every task belongs to a stored workflow."
            ),
        ],
        required_resource_keys={options.warehouse_key},
    )
    def fleet_checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        warehouse: WarehouseResource = getattr(context.resources, options.warehouse_key)
        now = datetime.now(UTC)
        with warehouse.engine().connect() as conn:
            syncs = [CustomerSync(*row) for row in quality.customer_syncs(conn)]
            orphans = quality.orphan_tasks(conn)
        report = freshness(syncs, now, window)
        stale_names = ", ".join(c.name for c in report.stale[:10]) + (" ..." if len(report.stale) > 10 else "")
        yield dg.AssetCheckResult(
            check_name="customers_fresh",
            passed=not report.stale,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"{len(report.stale)} of {report.active} active customers stale: {stale_names}"
                if report.stale
                else f"all {report.active} active customers synced within {window}"
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

    return fleet_checks
