"""The transitions of a sync, and the customer row agreeing with its latest sync record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.transactions import write_transaction

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def customer(pg_engine):
    with write_transaction(pg_engine) as conn:
        return customers.add(
            conn, name="acme", base_url="https://rest.zuora.com", client_id="id", client_secret_encrypted="x"
        )


def _state(engine, run_id: str):
    with engine.connect() as conn:
        return customers.get(conn, "acme"), sync_runs.for_run(conn, customers.get(conn, "acme").id, run_id)


def test_a_whole_sync_succeeds_and_the_customer_row_agrees(pg_engine, customer):
    with write_transaction(pg_engine) as conn:
        sync_runs.started(conn, customer.id, "r1", full_refresh=True, at=T0)
    row, record = _state(pg_engine, "r1")
    assert (row.last_sync_status, record["status"]) == ("running", "running")
    with write_transaction(pg_engine) as conn:
        assert sync_runs.progress(conn, customer.id, "r1", pages=2, listed=90, listing_complete=True)
        assert sync_runs.progress(conn, customer.id, "r1", created=90, total=90)
        assert sync_runs.succeeded(conn, customer.id, "r1", at=T0 + timedelta(seconds=9), tasks_upserted=400)

    row, record = _state(pg_engine, "r1")
    assert (record["status"], record["pages"], record["created"], record["tasks_upserted"]) == ("success", 2, 90, 400)
    assert record["full_refresh"] is True and record["listing_complete"] is True
    assert (row.last_sync_status, row.last_synced_at, row.last_sync_error) == ("success", record["finished_at"], None)


def test_a_failed_sync_keeps_the_last_successful_one(pg_engine, customer):
    with write_transaction(pg_engine) as conn:
        sync_runs.started(conn, customer.id, "r1", at=T0)
        sync_runs.succeeded(conn, customer.id, "r1", at=T0)
        sync_runs.started(conn, customer.id, "r2", at=T0 + timedelta(hours=1))
        assert sync_runs.failed(conn, customer.id, "r2", "ZuoraServerError: 503")

    row, record = _state(pg_engine, "r2")
    assert (record["status"], record["error_message"]) == ("failed", "ZuoraServerError: 503")
    assert (row.last_sync_status, row.last_sync_error, row.last_synced_at) == ("failed", "ZuoraServerError: 503", T0)
    assert row.sync_status == customers.ACTIVE


def test_a_step_retry_starts_the_record_afresh(pg_engine, customer):
    with write_transaction(pg_engine) as conn:
        sync_runs.started(conn, customer.id, "r1", at=T0)
        sync_runs.progress(conn, customer.id, "r1", pages=7, errors=3)
        sync_runs.failed(conn, customer.id, "r1", "dropped connection")
        sync_runs.started(conn, customer.id, "r1", at=T0 + timedelta(minutes=1))

    row, record = _state(pg_engine, "r1")
    assert (record["status"], record["pages"], record["errors"], record["error_message"]) == ("running", 0, 0, None)
    assert record["started_at"] == T0 and record["finished_at"] is None
    assert row.last_sync_status == "running"


def test_a_run_that_is_not_a_sync_leaves_the_sync_record_alone(pg_engine, customer):
    # reextract_tasks (or a Materialize of workflow_tasks alone) has no record.
    with write_transaction(pg_engine) as conn:
        assert not sync_runs.progress(conn, customer.id, "reextract", created=1)
        assert not sync_runs.succeeded(conn, customer.id, "reextract", tasks_upserted=5)
        assert not sync_runs.failed(conn, customer.id, "reextract", "boom")
    row, record = _state(pg_engine, "reextract")
    assert record is None
    assert (row.last_sync_status, row.last_synced_at, row.last_sync_error) == (None, None, None)


def test_refused_credentials_pause_with_the_reason_and_resume_clears_it(pg_engine, customer):
    with write_transaction(pg_engine) as conn:
        sync_runs.started(conn, customer.id, "r1", at=T0)
        sync_runs.paused(conn, customer.id, "r1", "invalid client credentials for 'acme'")
    row, record = _state(pg_engine, "r1")
    assert (row.sync_status, row.paused_reason) == (customers.PAUSED, "invalid client credentials for 'acme'")
    assert (record["status"], row.last_sync_status) == ("failed", "failed")

    with write_transaction(pg_engine) as conn:
        sync_runs.resume(conn, "acme")
        assert sync_runs.pause(conn, "acme").paused_reason == "paused by an operator"
        resumed = sync_runs.resume(conn, "acme")
    assert (resumed.sync_status, resumed.paused_reason) == (customers.ACTIVE, None)


def test_an_unknown_counter_is_refused(pg_engine, customer):
    with write_transaction(pg_engine) as conn, pytest.raises(ValueError, match="not a sync counter"):
        sync_runs.progress(conn, customer.id, "r1", status="success")
