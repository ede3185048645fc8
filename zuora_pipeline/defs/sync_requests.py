"""``sync_requests_sensor``: turns the syncs the CLI queues (``sync_requests`` in the warehouse)
into runs of ``sync_customer_workflows`` and writes each run's id and outcome back.

Each evaluation, in this order:

1. stamps the sensor's heartbeat in the warehouse (the CLI refuses to queue when it is stale);
2. finds the run Dagster made for each claim (by the run's ``zuora/sync_request`` tag), follows a
   failed run to its automatic retry, and writes the outcome of runs that ended;
3. claims the pending requests into runs the way the hourly schedule makes them: consecutive
   partitions, up to customers-per-run customers a run, one run per set of
   options; a request whose customer has no partition yet gets it now and a run next time; one
   whose customer was paused meanwhile is dropped;
4. asks for the run of each claim it made, and of each claim whose run has not appeared within a
   minute (lost with its tick: the daemon stopped between claiming and making the runs). The run
   key is the claim, so a claim is never run twice by one sensor; only the sensor that made a
   claim asks for its run at once, so the same code loaded twice in one deployment makes one run.

Latency: the daemon evaluates sensors in a loop of 5 s at the fastest, and this sensor in every
loop: a request becomes a queued run within about 5 s, and its outcome is in the warehouse
within about 5 s of the run's end (a customer's success sooner: it is its sync record).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.defs.jobs import Jobs, sync_run_config
from zuora_pipeline.defs.keys import (
    AUTO_RETRY_RUN_TAG,
    PARENT_RUN_TAG,
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    TRIGGER_TAG,
)
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.defs.schedules import customer_ranges
from zuora_pipeline.warehouse import customers, sync_requests
from zuora_pipeline.warehouse.sync_requests import SyncRequest
from zuora_pipeline.warehouse.transactions import write_transaction

SENSOR_NAME = "sync_requests_sensor"
CLAIM_TAG = "zuora/sync_request"
TRIGGER = "cli"
# Below the daemon's 5 s loop, so no loop skips it.
MINIMUM_INTERVAL_S = 1
# A claim's run is made in the tick that claimed it; one not seen after this long was lost.
LOST_AFTER_S = 60.0
PAUSED_REASON = "paused before its run was made; `zuora-pipeline customers resume {name}` first"
_ENDED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@dataclass(frozen=True)
class Plan:
    claims: list[list[SyncRequest]]  # each becomes one run
    dropped: list[SyncRequest]  # customers paused meanwhile
    missing: list[str]  # customers without a partition yet


def plan(pending: Sequence[SyncRequest], partitions: Sequence[str], active: set[str], per_run: int) -> Plan:
    """Pure, so it is unit-testable. ``partitions`` in the instance's order."""
    existing = set(partitions)
    dropped = [r for r in pending if r.customer not in active]
    ready = [r for r in pending if r.customer in active and r.customer in existing]
    missing = sorted({r.customer for r in pending if r.customer in active and r.customer not in existing})
    by_options: dict[tuple[bool, bool], list[SyncRequest]] = {}
    for request in ready:
        by_options.setdefault((request.full_refresh, request.allow_mass_delete), []).append(request)
    claims = []
    for requests in by_options.values():
        for names in customer_ranges([r.customer for r in requests], list(partitions), per_run):
            in_range = set(names)
            claims.append([r for r in requests if r.customer in in_range])
    return Plan(claims=claims, dropped=dropped, missing=missing)


def run_request(claim_id: str, requests: Sequence[SyncRequest], partitions: Sequence[str]) -> dg.RunRequest:
    """The run of one claim: one customer (tagged with its partition, so the run queue's
    per-customer limit covers it) or a range of consecutive partitions, as the schedule makes."""
    order = {key: index for index, key in enumerate(partitions)}
    names = sorted({r.customer for r in requests}, key=lambda name: order.get(name, len(order)))
    first, last = names[0], names[-1]
    tags = {PARTITION_TAG: first} if first == last else {RANGE_START_TAG: first, RANGE_END_TAG: last}
    return dg.RunRequest(
        run_key=claim_id,
        partition_key=first if first == last else None,
        run_config=sync_run_config(
            full_refresh=requests[0].full_refresh, allow_mass_delete=requests[0].allow_mass_delete
        ),
        tags={**tags, CLAIM_TAG: claim_id, TRIGGER_TAG: TRIGGER},
    )


def _timestamp(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def first_failure(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """The first line of the run's first step failure, else of its run failure."""
    for event_type in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE):
        for entry in instance.all_logs(run_id, of_type=event_type):
            event = entry.dagster_event
            error = event.step_failure_data.error if event is not None and event.is_step_failure else None
            text = error.message if error is not None else (event.message if event is not None else entry.message)
            if text and text.strip():
                return text.strip().splitlines()[0]
    return None


def record_runs(instance: dg.DagsterInstance, engine: sa.Engine) -> None:
    """Write each claim's run id, and the outcome of the runs that ended, into the warehouse."""
    with engine.connect() as conn:
        unassigned = list(sync_requests.claims_without_run(conn))
    for claim_id in unassigned:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={CLAIM_TAG: claim_id}), ascending=True)
        first = next((run for run in runs if PARENT_RUN_TAG not in run.tags), None)
        if first is not None:
            with write_transaction(engine) as conn:
                sync_requests.assign(conn, claim_id, first.run_id)
    with engine.connect() as conn:
        run_ids = sync_requests.running(conn)
    if not run_ids:
        return
    for record in instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids)):
        run = record.dagster_run
        if run.status not in _ENDED or run.is_complete_and_waiting_to_retry:
            continue
        with write_transaction(engine) as conn:
            if run.status == dg.DagsterRunStatus.FAILURE and run.tags.get(AUTO_RETRY_RUN_TAG):
                sync_requests.follow(conn, run.run_id, run.tags[AUTO_RETRY_RUN_TAG])
                continue
            failed = run.status != dg.DagsterRunStatus.SUCCESS
            sync_requests.finish(
                conn,
                run.run_id,
                run.status.value,
                started_at=_timestamp(record.start_time),
                finished_at=_timestamp(record.end_time),
                error=(first_failure(instance, run.run_id) or f"run {run.status.value.lower()}") if failed else None,
            )


def build_sync_requests_sensor(
    options: PipelineOptions, jobs: Jobs, partitions_def: dg.DynamicPartitionsDefinition
) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        job=jobs.sync,
        minimum_interval_seconds=MINIMUM_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        required_resource_keys={options.warehouse_key},
        description="Turns the syncs queued by `zuora-pipeline sync` (the warehouse's sync_requests) into runs, "
        "and writes each run's outcome back for the CLI.",
    )
    def sync_requests_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        warehouse: WarehouseResource = getattr(context.resources, options.warehouse_key)
        engine = warehouse.engine()
        with write_transaction(engine) as conn:
            sync_requests.beat(conn, SENSOR_NAME)
        record_runs(context.instance, engine)
        with engine.connect() as conn:
            lost = sync_requests.claims_without_run(conn, older_than_s=LOST_AFTER_S)
            idle = not lost and not sync_requests.pending(conn)
        to_make = dict(lost)
        if idle:
            return dg.SensorResult()
        partitions = list(context.instance.get_dynamic_partitions(options.partitions_name))
        with write_transaction(engine) as conn:
            active = set(customers.names(conn, status=customers.ACTIVE))
            todo = plan(sync_requests.pending(conn), partitions, active, options.customers_per_run)
            for request in todo.dropped:
                sync_requests.drop(conn, [request.id], PAUSED_REASON.format(name=request.customer))
            for requests in todo.claims:
                claim_id = uuid.uuid4().hex
                claimed = set(sync_requests.claim(conn, [r.id for r in requests], claim_id))
                if claimed:  # those withdrawn meanwhile are not
                    to_make[claim_id] = [r for r in requests if r.id in claimed]
        if todo.missing:
            context.log.info(f"partitions for requested customers: +{todo.missing}")
        return dg.SensorResult(
            run_requests=[run_request(claim_id, requests, partitions) for claim_id, requests in to_make.items()],
            dynamic_partitions_requests=[partitions_def.build_add_request(todo.missing)] if todo.missing else [],
        )

    return sync_requests_sensor
