"""Sync requests: each side's steps (CLI request/withdraw, sensor claim/drop/assign/follow/finish),
the sync records of a claim's runs, and the sensor's heartbeat, on both dialects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from zuora_pipeline.warehouse import customers, sync_requests, sync_runs
from zuora_pipeline.warehouse.schema import sensor_heartbeats
from zuora_pipeline.warehouse.transactions import write_transaction

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request: pytest.FixtureRequest) -> sa.Engine:
    engine: sa.Engine = request.getfixturevalue("pg_engine" if request.param == "postgresql" else "sqlite_engine")
    with write_transaction(engine) as conn:
        for name in ("acme", "globex"):
            customers.add(
                conn, name=name, base_url="https://rest.zuora.com", client_id="id", client_secret_encrypted="x"
            )
    return engine


def _ids(engine: sa.Engine, *names: str, **options: bool) -> list[int]:
    with write_transaction(engine) as conn:
        return sync_requests.request(conn, [customers.get(conn, n).id for n in names], **options)


def _load(engine: sa.Engine, ids: list[int]) -> dict[str, sync_requests.SyncRequest]:
    with engine.connect() as conn:
        return {r.customer: r for r in sync_requests.load(conn, ids)}


def test_a_request_is_pending_until_claimed_and_only_an_unclaimed_one_can_be_withdrawn(engine):
    ids = _ids(engine, "acme", "globex", full_refresh=True)
    with engine.connect() as conn:
        pending = sync_requests.pending(conn)
    assert [(r.customer, r.full_refresh, r.allow_mass_delete, r.claim) for r in pending] == [
        ("acme", True, False, None),
        ("globex", True, False, None),
    ]

    with write_transaction(engine) as conn:
        assert sync_requests.claim(conn, ids[:1], "c1") == ids[:1]
        assert sync_requests.claim(conn, ids[:1], "c2") == []  # claimed once only
        assert sync_requests.withdraw(conn, ids) == ids[1:]  # acme's run is being made: it stays
        assert sync_requests.claim(conn, ids[1:], "c3") == []  # withdrawn: gone

    assert set(_load(engine, ids)) == {"acme"}
    with engine.connect() as conn:
        assert sync_requests.pending(conn) == []
        assert list(sync_requests.claims_without_run(conn)) == ["c1"]


def test_a_claims_run_is_assigned_followed_to_its_retry_and_finished(engine):
    ids = _ids(engine, "acme", "globex")
    with write_transaction(engine) as conn:
        sync_requests.claim(conn, ids, "c1")
        sync_requests.assign(conn, "c1", "run-1")
        assert sync_requests.claims_without_run(conn) == {}
        assert sync_requests.running(conn) == ["run-1"]
        sync_requests.follow(conn, "run-1", "run-2")
        assert sync_requests.running(conn) == ["run-2"]
        sync_requests.finish(conn, "run-2", "FAILURE", started_at=T0, finished_at=T0 + timedelta(seconds=3), error="x")

    loaded = _load(engine, ids)
    assert {(r.run_id, r.run_status, r.run_error) for r in loaded.values()} == {("run-2", "FAILURE", "x")}
    assert loaded["acme"].ended and loaded["acme"].run_started_at == T0
    with engine.connect() as conn:
        assert sync_requests.running(conn) == []


def test_the_sync_records_of_every_run_of_the_claim_are_found_for_each_customer(engine):
    ids = _ids(engine, "acme", "globex")
    with write_transaction(engine) as conn:
        acme, globex = customers.get(conn, "acme"), customers.get(conn, "globex")
        sync_requests.claim(conn, ids, "c1")
        sync_requests.assign(conn, "c1", "run-1")
        # The first attempt synced acme, then died; its retry synced globex.
        sync_runs.started(conn, acme.id, "run-1", at=T0)
        sync_runs.succeeded(conn, acme.id, "run-1", at=T0 + timedelta(seconds=2))
        sync_runs.started(conn, globex.id, "run-1", at=T0)
        sync_requests.follow(conn, "run-1", "run-2")
        sync_runs.started(conn, globex.id, "run-2", at=T0 + timedelta(minutes=1))
        sync_runs.failed(conn, globex.id, "run-2", "boom")
        # Another run syncing acme is not this request's.
        sync_runs.started(conn, acme.id, "schedule-run", at=T0 + timedelta(minutes=5))
        records = sync_requests.sync_records(conn, ids)

    assert [(r["run_id"], r["status"]) for r in records[ids[0]]] == [("run-1", "success")]
    assert [(r["run_id"], r["status"]) for r in records[ids[1]]] == [("run-1", "running"), ("run-2", "failed")]


def test_a_dropped_request_ends_without_a_run(engine):
    (request_id,) = _ids(engine, "acme")
    with write_transaction(engine) as conn:
        sync_requests.drop(conn, [request_id], "paused meanwhile")
    dropped = _load(engine, [request_id])["acme"]
    assert (dropped.run_status, dropped.run_error, dropped.run_id) == (sync_requests.NOT_RUN, "paused meanwhile", None)


def test_removing_a_customer_removes_its_requests(engine):
    ids = _ids(engine, "acme", "globex")
    with write_transaction(engine) as conn:
        customers.remove(conn, "acme")
    assert set(_load(engine, ids)) == {"globex"}


def test_the_heartbeat_age_is_measured_by_the_database_clock(engine):
    with engine.connect() as conn:
        assert sync_requests.heartbeat_age_s(conn, "s") is None
    with write_transaction(engine) as conn:
        sync_requests.beat(conn, "s")
        sync_requests.beat(conn, "s")  # an update, not a second row
    with engine.connect() as conn:
        assert (sync_requests.heartbeat_age_s(conn, "s") or 0.0) < 5
        now = conn.execute(sa.select(sa.func.current_timestamp())).scalar_one()
    with write_transaction(engine) as conn:
        conn.execute(sa.update(sensor_heartbeats).values(beat_at=now - timedelta(minutes=10)))
    with engine.connect() as conn:
        assert 590 < (sync_requests.heartbeat_age_s(conn, "s") or 0.0) < 610
        assert conn.execute(sa.select(sa.func.count()).select_from(sensor_heartbeats)).scalar_one() == 1
