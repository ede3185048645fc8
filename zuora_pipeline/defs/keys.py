"""Names Dagster gives meaning to: the run tags it sets, the pool of the steps that call Zuora, and
the sync step's op name (run config addresses it). Asset keys depend on the options a project
chooses: ``PipelineOptions.key``."""

# Run tags Dagster sets: a run of one partition, a run of a range of partitions, a
# re-execution from failure (the UI's button, a run retry) with the run it re-executes, and on a
# failed run that run retries re-executed, the retry's id.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
RESUME_RETRY_TAG = "dagster/is_resume_retry"
PARENT_RUN_TAG = "dagster/parent_run_id"
# Our own: what launched a run (cli, schedule, onboard, credentials).
TRIGGER_TAG = "zuora/trigger"
# The run that automatically retries a failed run (Dagster's run retries).
AUTO_RETRY_RUN_TAG = "dagster/auto_retry_run_id"

# Pool of the steps that call Zuora: caps concurrent API-facing steps across all runs
# (`dagster instance concurrency set zuora_api N`, or `pools.default_limit` in dagster.yaml).
API_POOL = "zuora_api"

# The one step of a sync run (its op name: run config and event queries address it).
SYNC_OP = "sync_workflows"
