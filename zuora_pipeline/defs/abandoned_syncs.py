"""``abandoned_syncs_sensor``: ends the runs whose process died in the middle of a sync.

Dagster's run monitoring notices a dead run worker only with a run launcher that can check one
(the Docker, Kubernetes and ECS launchers). With the DefaultRunLauncher a run is a process of the
code server's host, and when that host goes down (a crash, a killed container, the code server's
process group killed) the run stays STARTED for ever: it keeps its customer's slot in the run
queue (one run per customer) and a ``zuora_api`` pool slot, and its customer is never synced
by a run of its own again.

This sensor finds such runs through the warehouse: a sync record still running while nobody, on
any host, holds the customer's sync lock (``sync/customer.py``). It ends the record
as failed and reports the record's run failed if Dagster still has it in progress; the
instance's run retries then re-execute the run from failure (customers it had synced are left
alone). It covers a run that dies during a customer's sync, where a sync run spends its time;
one that dies while starting, or between two customers, is bounded only by run monitoring's
``max_runtime_seconds``.
"""

import dagster as dg

from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.sync.customer import ABANDONED, end_abandoned

SENSOR_NAME = "abandoned_syncs_sensor"
_IN_PROGRESS = {dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED}


def build_abandoned_syncs_sensor(options: PipelineOptions) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=15,
        default_status=dg.DefaultSensorStatus.RUNNING,
        required_resource_keys={options.warehouse_key},
        description="Fails the runs whose process died during a customer's sync (a record still running, its "
        "customer's lock free), so run retries re-run them.",
    )
    def abandoned_syncs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        warehouse: WarehouseResource = getattr(context.resources, options.warehouse_key)
        ended = end_abandoned(warehouse.engine())
        failed = []
        for _customer_id, run_id in ended:
            run = context.instance.get_run_by_id(run_id)
            if run is not None and run.status in _IN_PROGRESS:
                context.instance.report_run_failed(run, f"{ABANDONED}: failed by {SENSOR_NAME}")
                failed.append(run_id)
        if not ended:
            return dg.SkipReason("no abandoned sync")
        return dg.SkipReason(f"ended {len(ended)} abandoned sync record(s); failed run(s) {sorted(set(failed))}")

    return abandoned_syncs_sensor
