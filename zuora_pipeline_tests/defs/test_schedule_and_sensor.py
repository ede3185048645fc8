"""The hourly schedule and the customer partitions sensor, evaluated as the daemon would."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from zuora_pipeline.definitions import defs
from zuora_pipeline.defs.factory import build_definitions
from zuora_pipeline.defs.keys import RANGE_END_TAG, RANGE_START_TAG
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.defs.schedules import customer_ranges
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.fixtures.keys import customer_partitions_sensor, customers_partitions, hourly_workflow_sync


def _add(engine, name: str, status: str = customers.ACTIVE) -> None:
    with write_transaction(engine) as conn:
        customers.add(
            conn, name=name, base_url="https://rest.zuora.com", client_id="c" * 36, client_secret_encrypted="x"
        )
        if status != customers.ACTIVE:
            sync_runs.pause(conn, name)


def _schedule_tick(pipeline, definitions: dg.Definitions = defs):
    context = dg.build_schedule_context(
        instance=pipeline.instance,
        scheduled_execution_time=datetime(2026, 11, 22, 21, 0, tzinfo=UTC),
        repository_def=definitions.get_repository_def(),
        instance_ref=pipeline.instance.get_ref(),
        resources={"warehouse": pipeline.warehouse_resource()},
    )
    schedule = hourly_workflow_sync if definitions is defs else definitions.resolve_schedule_def("hourly_workflow_sync")
    return schedule.evaluate_tick(context)


def test_schedule_syncs_active_customers_in_ranged_runs_and_leaves_paused_ones_out(pipeline):
    names = ["acme", "globex", "initech", "paused-co", "umbrella"]
    for name in names:
        _add(pipeline.engine, name, customers.PAUSED if name == "paused-co" else customers.ACTIVE)
    pipeline.instance.add_dynamic_partitions(customers_partitions.name, names)
    data = _schedule_tick(pipeline, build_definitions(PipelineOptions(customers_per_run=2)))

    requests = data.run_requests or []
    # Two per run, in partition order; a range never spans the paused customer.
    ranged = [(r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]) for r in requests if RANGE_START_TAG in r.tags]
    assert ranged == [("acme", "globex")]
    singles = [r for r in requests if RANGE_START_TAG not in r.tags]
    # A run of one customer keeps its partition tag, so the per-customer queue limit covers it.
    assert [(r.partition_key, r.tags["dagster/partition"]) for r in singles] == [
        ("initech", "initech"),
        ("umbrella", "umbrella"),
    ]
    assert len({r.run_key for r in requests}) == 3
    assert all(r.tags["zuora/trigger"] == "schedule" for r in requests)


def test_customer_ranges_chunk_contiguous_active_customers():
    keys = [f"c{i}" for i in range(1, 9)]
    active = ["c1", "c2", "c3", "c5", "c6", "c7", "c8"]
    assert customer_ranges(active, keys, 3) == [["c1", "c2", "c3"], ["c5", "c6", "c7"], ["c8"]]
    assert customer_ranges(active, keys, 1) == [[k] for k in active]
    assert customer_ranges(active, keys, 100) == [["c1", "c2", "c3"], ["c5", "c6", "c7", "c8"]]
    assert customer_ranges(["zz"], keys, 3) == []


def test_schedule_skips_when_no_customer_is_active(pipeline):
    data = _schedule_tick(pipeline)
    assert not data.run_requests
    assert data.skip_message


def _tick(pipeline, cursor: str | None = None):
    context = dg.build_sensor_context(
        instance=pipeline.instance,
        definitions=defs,
        instance_ref=pipeline.instance.get_ref(),
        cursor=cursor,
        resources={"warehouse": pipeline.warehouse_resource()},
    )
    data = customer_partitions_sensor.evaluate_tick(context)
    # build_sensor_context does not apply partition requests: do what the daemon does.
    for request in data.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            pipeline.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                pipeline.instance.delete_dynamic_partition(request.partitions_def_name, key)
    return data


def test_sensor_adds_partitions_and_requests_onboarding_runs(pipeline):
    _add(pipeline.engine, "acme")
    _add(pipeline.engine, "globex")
    _add(pipeline.engine, "sleepy", customers.PAUSED)

    data = _tick(pipeline)

    assert set(pipeline.instance.get_dynamic_partitions("customers")) == {"acme", "globex", "sleepy"}
    assert sorted(r.partition_key for r in data.run_requests) == ["acme", "globex"]
    assert all(r.run_key.startswith("onboard:") for r in data.run_requests)

    again = _tick(pipeline, data.cursor)
    assert not again.run_requests and not again.dynamic_partitions_requests


def test_sensor_drops_partitions_of_removed_customers(pipeline):
    _add(pipeline.engine, "acme")
    first = _tick(pipeline)
    with write_transaction(pipeline.engine) as conn:
        customers.remove(conn, "acme")

    _tick(pipeline, first.cursor)

    assert pipeline.instance.get_dynamic_partitions("customers") == []


def test_sensor_resyncs_a_customer_whose_credentials_changed(pipeline):
    _add(pipeline.engine, "acme")
    _add(pipeline.engine, "globex")
    first = _tick(pipeline)
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, "acme", client_id="d" * 36)

    data = _tick(pipeline, first.cursor)

    assert [r.partition_key for r in data.run_requests] == ["acme"]
    assert data.run_requests[0].run_key.startswith("credentials:acme:")


def test_sensor_syncs_a_paused_customer_whose_secret_was_rotated_once_it_is_resumed(pipeline):
    _add(pipeline.engine, "acme")
    first = _tick(pipeline)
    with write_transaction(pipeline.engine) as conn:
        sync_runs.paused(conn, pipeline.customer("acme").id, "run-1", "bad credentials")
    paused = _tick(pipeline, first.cursor)
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, "acme", client_secret_encrypted="rotated")
    still_paused = _tick(pipeline, paused.cursor)
    with write_transaction(pipeline.engine) as conn:
        sync_runs.resume(conn, "acme")

    resumed = _tick(pipeline, still_paused.cursor)

    assert not paused.run_requests and not still_paused.run_requests
    assert [r.partition_key for r in resumed.run_requests] == ["acme"]
    assert not _tick(pipeline, resumed.cursor).run_requests
