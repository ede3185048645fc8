"""``hourly_workflow_sync``: on the hour, every active customer, in runs of up to
``customers_per_run`` customers; ``fleet_quality_schedule``: the fleet-wide checks every 15 minutes."""

import dagster as dg

from zuora_pipeline.defs.jobs import Jobs
from zuora_pipeline.defs.keys import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG, TRIGGER_TAG
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.warehouse import customers

HOURLY_SCHEDULE_NAME = "hourly_workflow_sync"
FLEET_SCHEDULE_NAME = "fleet_quality_schedule"


def customer_ranges(active: list[str], partitions: list[str], per_run: int) -> list[list[str]]:
    """The active customers in runs of at most ``per_run``. A run covers a range of partitions in
    their order, so a range never spans a customer that is not active (paused ones stay out of
    the schedule's runs, as they always have)."""
    wanted = set(active)
    ranges: list[list[str]] = []
    current: list[str] = []
    for key in partitions:
        if key not in wanted or len(current) == per_run:
            if current:
                ranges.append(current)
            current = []
        if key in wanted:
            current.append(key)
    if current:
        ranges.append(current)
    return ranges


def hourly_run_requests(active: list[str], partitions: list[str], tick: str, per_run: int) -> list[dg.RunRequest]:
    """``partitions`` in the instance's order. The partition tags are set here because resolving a
    dynamic partition key costs one database round trip per key (measured on Dagster 1.13: ~12 ms
    each, 57 s for 5,000 customers, against a 60 s tick timeout); we validated the keys against the
    instance ourselves. A run of one customer is tagged with its partition, so the run queue's
    per-customer limit covers it; a run of several is tagged with its range."""
    requests = []
    for keys in customer_ranges(active, partitions, per_run):
        first, last = keys[0], keys[-1]
        if first == last:
            tags = {PARTITION_TAG: first}
            run_key = f"{first}:{tick}"
        else:
            tags = {RANGE_START_TAG: first, RANGE_END_TAG: last}
            run_key = f"{first}...{last}:{tick}"
        requests.append(
            dg.RunRequest(
                partition_key=first if first == last else None,
                run_key=run_key,
                tags={**tags, TRIGGER_TAG: "schedule"},
            )
        )
    return requests


def _status(options: PipelineOptions) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if options.schedule_running else dg.DefaultScheduleStatus.STOPPED


def build_schedules(options: PipelineOptions, jobs: Jobs) -> list[dg.ScheduleDefinition]:
    @dg.schedule(
        name=HOURLY_SCHEDULE_NAME,
        job=jobs.sync,
        cron_schedule=options.schedule_cron,
        execution_timezone="UTC",
        default_status=_status(options),
        required_resource_keys={options.warehouse_key},
    )
    def hourly_workflow_sync(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
        warehouse: WarehouseResource = getattr(context.resources, options.warehouse_key)
        with warehouse.engine().connect() as conn:
            active = customers.names(conn, status=customers.ACTIVE)
        partitions = context.instance.get_dynamic_partitions(options.partitions_name)
        tick = context.scheduled_execution_time.strftime("%Y%m%dT%H%M")
        requests = hourly_run_requests(active, list(partitions), tick, options.customers_per_run)
        if not requests:
            return dg.SkipReason("no active customer has a partition yet")
        return requests

    # Every 15 minutes: a customer that missed its hourly sync twice is named within a quarter hour.
    fleet_quality_schedule = dg.ScheduleDefinition(
        name=FLEET_SCHEDULE_NAME,
        job=jobs.fleet_checks,
        cron_schedule="*/15 * * * *",
        execution_timezone="UTC",
        default_status=_status(options),
    )
    return [hourly_workflow_sync, fleet_quality_schedule]
