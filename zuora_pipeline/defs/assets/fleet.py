"""``zuora/fleet``: the warehouse across all customers, the target of the fleet-wide checks.

It is an external asset (nothing materializes it) and unpartitioned, so its checks run only in
the ``fleet_quality_checks`` job. Had they stayed on the customer-partitioned assets, the UI's
Materialize of a customer would run them too: it selects every check of the selected assets that
belongs to the asset job.
"""

import dagster as dg

from zuora_pipeline.defs.keys import FLEET, GROUP, WORKFLOW_TASKS, WORKFLOWS

fleet_asset = dg.AssetSpec(
    FLEET,
    deps=[WORKFLOWS, WORKFLOW_TASKS],
    group_name=GROUP,
    kinds={"sql"},
    description="Every customer's mirror in the warehouse (tables customers, workflows, tasks). "
    "Not materialized: its checks (freshness of each customer, orphan tasks) run every 15 "
    "minutes in the fleet_quality_checks job.",
)
