"""A sync record left running by a process that died is ended; one whose sync still holds the
customer's lock (on another connection, as another host would) is not; on both dialects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zuora_pipeline.sync.customer import ABANDONED, end_abandoned
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.transactions import customer_sync_lock_if_free, write_transaction
from zuora_pipeline_tests.fixtures.locks import held_elsewhere


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request: pytest.FixtureRequest) -> sa.Engine:
    return request.getfixturevalue("pg_engine" if request.param == "postgresql" else "sqlite_engine")


def _started(engine: sa.Engine, name: str, run_id: str) -> int:
    with write_transaction(engine) as conn:
        customer = customers.add(
            conn, name=name, base_url="https://rest.zuora.com", client_id="id", client_secret_encrypted="x"
        )
        sync_runs.started(conn, customer.id, run_id)
    return customer.id


def test_a_running_record_whose_lock_nobody_holds_is_ended_and_a_live_one_is_not(engine):
    dead = _started(engine, "dead-co", "run-dead")
    live = _started(engine, "live-co", "run-live")

    with held_elsewhere(engine, live):
        with customer_sync_lock_if_free(engine, live) as free:
            assert not free
        assert end_abandoned(engine) == [(dead, "run-dead")]

    with engine.connect() as conn:
        ended = sync_runs.for_run(conn, dead, "run-dead")
        assert ended is not None and (ended["status"], ended["error_message"]) == ("failed", ABANDONED)
        assert ended["retryable"] is True
        assert customers.get(conn, "dead-co").last_sync_status == "failed"
        still = sync_runs.for_run(conn, live, "run-live")
        assert still is not None and still["status"] == "running"
    with customer_sync_lock_if_free(engine, live) as free:
        assert free  # released with the thread: the next look would end it
