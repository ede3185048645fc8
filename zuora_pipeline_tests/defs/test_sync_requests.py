"""``sync_requests_sensor``: the CLI's sync requests become runs as the schedule makes them, and
each run's id and end come back to the warehouse; evaluated as the daemon would (the runs it
asks for executed in process)."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from zuora_pipeline.defs.keys import AUTO_RETRY_RUN_TAG, PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from zuora_pipeline.defs.sync_requests import CLAIM_TAG, SENSOR_NAME, plan, record_runs
from zuora_pipeline.runs import submit
from zuora_pipeline.warehouse import customers, sync_requests, sync_runs
from zuora_pipeline.warehouse.schema import sync_requests as sync_requests_table
from zuora_pipeline.warehouse.sync_requests import SyncRequest
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.fixtures.keys import customers_partitions
from zuora_pipeline_tests.fixtures.sync_daemon import InProcessDaemon


def _request(request_id: int, customer: str, *, full_refresh: bool = False) -> SyncRequest:
    return SyncRequest(request_id, customer, full_refresh, False, None, None, None, None, None, None, None)


def test_requests_are_planned_in_ranges_of_consecutive_partitions_per_set_of_options():
    partitions = ["a", "b", "c", "d", "e", "f", "g"]
    pending = [
        _request(1, "a"),
        _request(2, "b"),
        _request(3, "c"),
        _request(4, "e"),  # d not requested: a range never spans it
        _request(5, "f", full_refresh=True),
        _request(6, "c"),  # asked twice: both requests ride in c's run
        _request(7, "paused-co"),
        _request(8, "new-co"),
    ]
    todo = plan(pending, partitions, active=set(partitions) | {"new-co"}, per_run=2)

    assert [[r.id for r in claim] for claim in todo.claims] == [[1, 2], [3, 6], [4], [5]]
    assert [r.id for r in todo.dropped] == [7]
    assert todo.missing == ["new-co"]


@pytest.fixture
def daemon(pipeline) -> InProcessDaemon:
    return InProcessDaemon(pipeline)


def _customer_ids(pipeline, *names: str) -> list[int]:
    with pipeline.engine.connect() as conn:
        return [customers.get(conn, n).id for n in names]


def _requests(pipeline, ids: list[int]) -> dict[str, SyncRequest]:
    with pipeline.engine.connect() as conn:
        return {r.customer: r for r in sync_requests.load(conn, ids)}


def test_a_tick_beats_and_makes_runs_of_several_customers_as_the_schedule_does(pipeline, sim_tenant):
    daemon = InProcessDaemon(pipeline, customers_per_run=2)
    tenants = [sim_tenant(workflows=2, tasks=1) for _ in range(3)]
    names = [pipeline.add_customer(t) for t in tenants]
    chosen = [pipeline.customer(n) for n in names]
    ids = submit.queue(pipeline.engine, chosen, full_refresh=True)

    made = daemon.tick()

    with pipeline.engine.connect() as conn:
        assert sync_requests.heartbeat_age_s(conn, SENSOR_NAME) is not None
    ranged = [r for r in made if RANGE_START_TAG in r.tags]
    single = [r for r in made if RANGE_START_TAG not in r.tags]
    assert [(r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]) for r in ranged] == [(names[0], names[1])]
    assert [(r.partition_key, r.tags[PARTITION_TAG]) for r in single] == [(names[2], names[2])]
    assert all(r.tags["zuora/trigger"] == "cli" and r.tags[CLAIM_TAG] == r.run_key for r in made)
    assert all(r.run_config["ops"]["sync_workflows"]["config"]["full_refresh"] is True for r in made)

    daemon.tick()  # finds the runs made last time and writes their ends

    loaded = _requests(pipeline, ids)
    runs = {r.run_id: r for r in pipeline.instance.get_runs()}
    assert {loaded[n].run_id for n in names[:2]} == {runs_of(runs, ranged[0].run_key)}
    assert loaded[names[2]].run_id == runs_of(runs, single[0].run_key)
    assert all(r.run_status == "SUCCESS" and r.run_started_at and r.run_finished_at for r in loaded.values())
    for name, tenant in zip(names, tenants, strict=True):
        pipeline.assert_matches_truth(name, tenant.name)
    assert daemon.tick() == []  # nothing left to do


def runs_of(runs: dict[str, dg.DagsterRun], claim: str | None) -> str:
    (run_id,) = [i for i, r in runs.items() if r.tags.get(CLAIM_TAG) == claim]
    return run_id


def test_a_customer_without_a_partition_gets_it_first_and_its_run_next(pipeline, daemon, sim_tenant):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    pipeline.instance.delete_dynamic_partition(customers_partitions.name, name)
    submit.queue(pipeline.engine, [pipeline.customer(name)])

    assert daemon.tick() == []
    assert name in pipeline.instance.get_dynamic_partitions(customers_partitions.name)
    assert [r.partition_key for r in daemon.tick()] == [name]


def test_a_customer_paused_before_its_run_was_made_is_dropped(pipeline, daemon, sim_tenant):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    (request_id,) = submit.queue(pipeline.engine, [pipeline.customer(name)])
    with write_transaction(pipeline.engine) as conn:
        sync_runs.pause(conn, name)

    assert daemon.tick() == []
    dropped = _requests(pipeline, [request_id])[name]
    assert dropped.run_status == sync_requests.NOT_RUN and f"customers resume {name}" in (dropped.run_error or "")


def test_a_run_request_lost_with_its_tick_is_asked_for_again_under_the_same_key(pipeline, daemon, sim_tenant):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    (request_id,) = submit.queue(pipeline.engine, [pipeline.customer(name)])
    daemon.lose_next_runs = True
    daemon.tick()
    claim = _requests(pipeline, [request_id])[name].claim
    assert claim is not None and pipeline.instance.get_runs() == []
    # Within a minute its run may still be in the making (by another sensor loading the same code).
    assert daemon.tick() == []
    with write_transaction(pipeline.engine) as conn:
        conn.execute(
            sa.update(sync_requests_table).values(claimed_at=sa.func.current_timestamp() - timedelta(minutes=2))
        )

    (again,) = daemon.tick()

    assert again.run_key == claim
    daemon.tick()
    assert _requests(pipeline, [request_id])[name].run_status == "SUCCESS"
    assert len(pipeline.instance.get_runs()) == 1


def _claimed(pipeline, name: str, claim: str) -> int:
    (request_id,) = submit.queue(pipeline.engine, [pipeline.customer(name)])
    with write_transaction(pipeline.engine) as conn:
        sync_requests.claim(conn, [request_id], claim)
    return request_id


def _run(pipeline, claim: str, **tags: str) -> dg.DagsterRun:
    from zuora_pipeline.definitions import defs

    job = defs.resolve_job_def("sync_customer_workflows")
    return pipeline.instance.create_run_for_job(
        job, tags={CLAIM_TAG: claim, **tags}, status=dg.DagsterRunStatus.NOT_STARTED
    )


def test_a_run_canceled_before_it_started_is_recorded_without_a_start(pipeline, sim_tenant):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    request_id = _claimed(pipeline, name, "c1")
    run = _run(pipeline, "c1")

    record_runs(pipeline.instance, pipeline.engine)
    assert _requests(pipeline, [request_id])[name].run_id == run.run_id
    pipeline.instance.report_run_canceled(run)
    record_runs(pipeline.instance, pipeline.engine)

    ended = _requests(pipeline, [request_id])[name]
    assert (ended.run_status, ended.run_started_at) == ("CANCELED", None)
    assert ended.run_error


def test_a_failed_run_that_dagster_retries_is_followed_to_its_retry(pipeline, sim_tenant):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    request_id = _claimed(pipeline, name, "c1")
    first = _run(pipeline, "c1")
    record_runs(pipeline.instance, pipeline.engine)
    retry = _run(pipeline, "c1", **{"dagster/parent_run_id": first.run_id})  # carries the claim tag too
    pipeline.instance.add_run_tags(first.run_id, {"dagster/will_retry": "true"})
    pipeline.instance.report_run_failed(pipeline.instance.get_run_by_id(first.run_id))

    record_runs(pipeline.instance, pipeline.engine)  # waiting for its retry: not ended
    assert _requests(pipeline, [request_id])[name].run_status is None
    pipeline.instance.add_run_tags(first.run_id, {AUTO_RETRY_RUN_TAG: retry.run_id})
    record_runs(pipeline.instance, pipeline.engine)

    followed = _requests(pipeline, [request_id])[name]
    assert (followed.run_id, followed.run_status) == (retry.run_id, None)
