"""The CLI's queued syncs through the warehouse: the daemon check, each customer's outcome from
its sync record and its run's end, and following requests until their runs exist or end (the
sensor's side played by an in-process daemon)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from zuora_pipeline import config
from zuora_pipeline.defs import sync_requests as sensor_module
from zuora_pipeline.runs import submit
from zuora_pipeline.warehouse import customers, sync_requests
from zuora_pipeline.warehouse.engine import create_warehouse_engine
from zuora_pipeline.warehouse.schema import sensor_heartbeats
from zuora_pipeline.warehouse.sync_requests import SyncRequest
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.fixtures.sync_daemon import InProcessDaemon

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_cli_waits_for_the_sensor_the_code_location_declares():
    assert submit.SENSOR_NAME == sensor_module.SENSOR_NAME


def test_queueing_imports_no_dagster():
    # An operator host needs the warehouse URL only: no Dagster instance, nothing Dagster loads.
    code = "import sys, zuora_pipeline.runs.submit; print(any(m.split('.')[0] == 'dagster' for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _beat(engine: sa.Engine, age: timedelta = timedelta(0)) -> None:
    with write_transaction(engine) as conn:
        sync_requests.beat(conn, submit.SENSOR_NAME)
        now = conn.execute(sa.select(sa.func.current_timestamp())).scalar_one()
        conn.execute(sa.update(sensor_heartbeats).values(beat_at=now - age))


def test_without_a_daemon_nothing_is_queued_and_one_line_says_how_to_point_at_the_deployment(pg_url, pg_engine):
    # trust authentication takes any password: the message must not show it.
    engine = create_warehouse_engine(pg_url.replace("postgres@", "postgres:hunter2@"))
    with pytest.raises(submit.NotWatchedError) as never:
        submit.require_watcher(engine)
    _beat(engine, timedelta(minutes=2))
    with pytest.raises(submit.NotWatchedError) as stale:
        submit.require_watcher(engine)
    _beat(engine)
    submit.require_watcher(engine)

    for error, seen in ((never, "has ever evaluated"), (stale, "has evaluated in the last 120 s")):
        message = str(error.value)
        assert "\n" not in message and "hunter2" not in message and "***" in message
        assert f"no Dagster daemon {seen} {submit.SENSOR_NAME}" in message
        assert "ZUORA_PIPELINE_DATABASE_URL" in message and "dagster-daemon run" in message
    engine.dispose()


def _req(**values: object) -> SyncRequest:
    base: dict[str, object] = dict(
        id=1,
        customer="acme",
        full_refresh=False,
        allow_mass_delete=False,
        claim="c1",
        claimed_at=T0,
        run_id="run-1",
        run_status=None,
        run_started_at=None,
        run_finished_at=None,
        run_error=None,
    )
    return SyncRequest(**{**base, **values})  # type: ignore[arg-type]


def _record(status: str, run_id: str = "run-1", seconds: float | None = 2.0, **values: object) -> dict[str, object]:
    finished = T0 + timedelta(seconds=seconds) if seconds is not None else None
    return {
        "run_id": run_id,
        "status": status,
        "started_at": T0,
        "finished_at": finished,
        "error_message": None,
        **values,
    }


def test_a_customer_succeeds_as_soon_as_its_sync_record_does_even_before_its_run_ends():
    done = submit.outcome(_req(), [_record("success", created=4, api_calls=9)])
    assert done is not None and done.success and done.seconds == 2.0
    assert (done.stats.created, done.stats.api_calls, done.run_id) == (4, 9, "run-1")


def test_a_failure_is_final_only_when_the_run_has_ended():
    # A failed record may be synced again by a step retry of the same run.
    assert submit.outcome(_req(), [_record("failed", error_message="503")]) is None
    failed = submit.outcome(
        _req(run_status="FAILURE", run_error="step failed"), [_record("failed", error_message="503")]
    )
    assert failed is not None and not failed.success and failed.error == "503" and failed.seconds == 2.0


def test_a_run_that_never_started_reports_no_duration():
    canceled = submit.outcome(_req(run_status="CANCELED", run_error="run canceled"), [])
    assert canceled is not None and canceled.seconds is None and canceled.error == "run canceled"
    dropped = submit.outcome(_req(run_id=None, claim=None, run_status=sync_requests.NOT_RUN, run_error="paused"), [])
    assert dropped is not None and (dropped.run_id, dropped.seconds, dropped.error) == (None, None, "paused")


def test_a_sync_cut_short_with_its_run_reports_the_runs_error_and_time():
    killed = submit.outcome(
        _req(run_status="FAILURE", run_error="process exited", run_started_at=T0, run_finished_at=T0 + timedelta(5)),
        [_record("running", seconds=None)],
    )
    assert killed is not None and killed.error == "process exited" and killed.seconds == 5 * 86400


class Clock:
    """A clock whose sleep does what the daemon would do meanwhile (``between``)."""

    def __init__(self, between: Callable[[], object] = lambda: None) -> None:
        self.now = 0.0
        self.between = between

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.5)
        self.between()


def _follow(pipeline, ids: list[int], clock: Clock, *, outcomes: bool, timeout_s: float = 60) -> list[object]:
    return list(
        submit.follow(pipeline.engine, ids, outcomes=outcomes, timeout_s=timeout_s, clock=clock, sleep=clock.sleep)
    )


def test_each_customer_is_reported_as_its_run_appears_and_as_its_sync_ends(pipeline, sim_tenant):
    names = [pipeline.add_customer(sim_tenant(workflows=3, tasks=1)) for _ in range(3)]
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, names[2], client_secret_encrypted=config.secret_box().encrypt("wrong"))
    daemon = InProcessDaemon(pipeline, customers_per_run=2)
    _beat(pipeline.engine)  # the daemon is up: its sensor has run
    ids = submit.queue(pipeline.engine, [pipeline.customer(n) for n in names])

    events = _follow(pipeline, ids, Clock(daemon.tick), outcomes=True)

    queued = [e for e in events if isinstance(e, submit.Queued)]
    finished = {e.outcome.customer: e.outcome for e in events if isinstance(e, submit.Finished)}
    assert sorted(e.customer for e in queued) == sorted(names)
    assert queued[0].run_id == queued[1].run_id != queued[2].run_id  # two per run, as the schedule makes them
    assert [finished[n].success for n in names] == [True, True, False]
    assert finished[names[0]].stats.created == 3 and finished[names[0]].seconds is not None
    assert "rejected the credentials" in (finished[names[2]].error or "")
    assert len(events) == 6


def test_without_wait_it_stops_once_every_run_exists(pipeline, sim_tenant):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    daemon = InProcessDaemon(pipeline)
    _beat(pipeline.engine)
    ids = submit.queue(pipeline.engine, [pipeline.customer(name)])

    (queued,) = _follow(pipeline, ids, Clock(daemon.tick), outcomes=False)

    assert isinstance(queued, submit.Queued) and queued.run_id in {r.run_id for r in pipeline.instance.get_runs()}


@pytest.mark.parametrize("outcomes", [True, False], ids=["wait", "no-wait"])
def test_a_request_nobody_picks_up_is_withdrawn(pipeline, sim_tenant, outcomes):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    clock = Clock(lambda: _beat(pipeline.engine))  # a daemon that beats but makes no runs
    _beat(pipeline.engine)
    ids = submit.queue(pipeline.engine, [pipeline.customer(name)])

    (event,) = _follow(pipeline, ids, clock, outcomes=outcomes, timeout_s=600)

    assert isinstance(event, submit.Unfinished) and event.run_id is None
    assert event.reason == "not picked up by a Dagster daemon within 60 s (withdrawn)"
    with pipeline.engine.connect() as conn:
        assert sync_requests.load(conn, ids) == []


def test_a_daemon_that_stops_beating_gets_its_unclaimed_requests_withdrawn(pipeline, sim_tenant):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    _beat(pipeline.engine, timedelta(minutes=5))
    ids = submit.queue(pipeline.engine, [pipeline.customer(name)])

    (event,) = _follow(pipeline, ids, Clock(), outcomes=True)

    assert isinstance(event, submit.Unfinished) and event.reason.startswith("no Dagster daemon has evaluated")


def test_waiting_gives_up_at_the_timeout_and_names_the_run_that_goes_on(pipeline, sim_tenant):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    _beat(pipeline.engine)
    ids = submit.queue(pipeline.engine, [pipeline.customer(name)])
    with write_transaction(pipeline.engine) as conn:  # claimed, its run made, not ended
        sync_requests.claim(conn, ids, "c1")
        sync_requests.assign(conn, "c1", "run-1")

    events = _follow(pipeline, ids, Clock(lambda: _beat(pipeline.engine)), outcomes=True, timeout_s=5)

    assert events[0] == submit.Queued(name, "run-1")
    assert events[1] == submit.Unfinished(name, "run-1", "run run-1 not finished after 5 s")
