"""Asset keys: every asset lives under the ``zuora`` prefix."""

import dagster as dg

WORKFLOW_PAGES = dg.AssetKey(["zuora", "workflow_pages"])
WORKFLOW_EXPORTS = dg.AssetKey(["zuora", "workflow_exports"])
WORKFLOWS = dg.AssetKey(["zuora", "workflows"])
WORKFLOW_TASKS = dg.AssetKey(["zuora", "workflow_tasks"])
# The assets of one customer's sync, in step order; a run materializing all of them is a sync.
SYNC_ASSETS = (WORKFLOW_PAGES, WORKFLOW_EXPORTS, WORKFLOWS, WORKFLOW_TASKS)
# Not materialized by Dagster: the warehouse across all customers, target of the fleet-wide checks.
FLEET = dg.AssetKey(["zuora", "fleet"])

# Run tags Dagster sets: a run of one partition, a run of a range of partitions, a
# re-execution from failure (the UI's button, a run retry) with the run it re-executes, and on a
# failed run that run retries re-executed, the retry's id.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
RESUME_RETRY_TAG = "dagster/is_resume_retry"
PARENT_RUN_TAG = "dagster/parent_run_id"
AUTO_RETRY_RUN_TAG = "dagster/auto_retry_run_id"

GROUP = "zuora"
# Pool of the steps that call Zuora: caps concurrent API-facing steps across all runs
# (`dagster instance concurrency set zuora_api N`, or `pools.default_limit` in dagster.yaml).
API_POOL = "zuora_api"
