"""``abandoned_syncs_sensor`` fails the Dagster run of a sync whose process died, so run retries
re-run it; a run whose sync holds its lock is left alone."""

from __future__ import annotations

import dagster as dg

from zuora_pipeline.definitions import defs
from zuora_pipeline.defs.jobs import SYNC_JOB_NAME
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.fixtures.keys import abandoned_syncs_sensor
from zuora_pipeline_tests.fixtures.locks import held_elsewhere


def _started_run(pipeline, name: str) -> tuple[int, dg.DagsterRun]:
    run = pipeline.instance.create_run_for_job(
        defs.resolve_job_def(SYNC_JOB_NAME), tags={"dagster/partition": name}, status=dg.DagsterRunStatus.STARTED
    )
    with write_transaction(pipeline.engine) as conn:
        customer = customers.add(
            conn, name=name, base_url="https://rest.zuora.com", client_id="id", client_secret_encrypted="x"
        )
        sync_runs.started(conn, customer.id, run.run_id)
    return customer.id, run


def _tick(pipeline) -> str | None:
    context = dg.build_sensor_context(
        instance=pipeline.instance, resources={"warehouse": pipeline.warehouse_resource()}
    )
    return abandoned_syncs_sensor.evaluate_tick(context).skip_message


def test_the_run_of_a_sync_whose_process_died_is_failed_and_a_live_one_is_left_alone(pipeline):
    _dead_id, dead = _started_run(pipeline, "dead-co")
    live_id, live = _started_run(pipeline, "live-co")

    with held_elsewhere(pipeline.engine, live_id):
        message = _tick(pipeline)

    assert pipeline.instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
    assert pipeline.instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED
    assert message is not None and dead.run_id in message and live.run_id not in message
    failure = pipeline.instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert "abandoned_syncs_sensor" in (failure[0].dagster_event.message or "")
