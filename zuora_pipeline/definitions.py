"""The code location: ``zuora_pipeline.definitions:defs``."""

import gc

import dagster as dg

from zuora_pipeline.defs.abandoned_syncs import abandoned_syncs_sensor
from zuora_pipeline.defs.assets.fleet import fleet_asset
from zuora_pipeline.defs.assets.sync import sync_workflows_asset
from zuora_pipeline.defs.checks import fleet_checks
from zuora_pipeline.defs.jobs import fleet_quality_checks, reextract_tasks, sync_customer_workflows
from zuora_pipeline.defs.notifications import AlertChannels, sync_failure_alerts
from zuora_pipeline.defs.resources import environment_resources
from zuora_pipeline.defs.schedules import fleet_quality_schedule, hourly_workflow_sync
from zuora_pipeline.defs.sensors import customer_partitions_sensor
from zuora_pipeline.defs.sync_requests import sync_requests_sensor

defs = dg.Definitions(
    assets=[sync_workflows_asset, fleet_asset],
    asset_checks=[fleet_checks],
    jobs=[sync_customer_workflows, reextract_tasks, fleet_quality_checks],
    schedules=[hourly_workflow_sync, fleet_quality_schedule],
    sensors=[customer_partitions_sensor, sync_requests_sensor, abandoned_syncs_sensor, sync_failure_alerts],
    resources={**environment_resources(), "alerts": AlertChannels.from_environment()},
    # Materializations launched from the UI run their steps in one process too (see defs/jobs.py).
    executor=dg.in_process_executor,
)

# Everything loaded so far (Dagster and ~1,700 modules, the definitions) lives as long as the
# process: frozen, the garbage collector no longer traverses it, neither in every full collection
# nor at interpreter teardown, which otherwise costs a run worker ~0.5 s of CPU as it exits.
gc.freeze()
