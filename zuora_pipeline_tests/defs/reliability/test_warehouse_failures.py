"""Fault family 8: the warehouse connection dropped mid-write, and the sync process killed with
SIGKILL mid-sync. Each step writes in one transaction, so nothing partial survives either; the
next run (or the step retry) converges, with no duplicate rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from zuora_pipeline.defs.keys import SYNC_OP
from zuora_pipeline.warehouse.schema import tasks, workflows
from zuora_pipeline_tests.defs.reliability.support import live_duplicates, step_retries, synced_customer, wait_until


def _backend_alive(admin: sa.Engine, pid: int) -> bool:
    with admin.connect() as conn:
        return bool(conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).scalar())


@contextmanager
def connection_killer(engine: sa.Engine, pg_url: str, table: str, *, times: int) -> Iterator[list[int]]:
    """Terminate the backend of the connection that is about to write ``table`` (from another
    connection, with pg_terminate_backend), the first ``times`` times it does so."""
    admin = sa.create_engine(pg_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    killed: list[int] = []
    lock = threading.Lock()
    prefix = f"INSERT INTO {table} ".upper()

    def before(conn: sa.Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        # Anywhere in the statement: PostgreSQL's task extraction is a WITH ... INSERT INTO tasks.
        if prefix not in statement.upper():
            return
        with lock:
            if len(killed) >= times:
                return
            pid = int(conn.connection.dbapi_connection.info.backend_pid)  # type: ignore[union-attr]
            killed.append(pid)
        with admin.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        wait_until(lambda: not _backend_alive(admin, pid), timeout=30, what=f"backend {pid} to die")

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield killed
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        admin.dispose()


@pytest.mark.parametrize("table", ["raw_workflow_exports", "workflows", "tasks"])
def test_connection_dropped_mid_write_is_retried_and_converges(
    pipeline: Any, sim_tenant: Any, pg_url: str, table: str
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=25, tasks=4)
    pipeline.simulator.admin.mutate(tenant.name, add=3, update=5, delete=2, seed=21)

    with connection_killer(pipeline.engine, pg_url, table, times=1) as killed:
        outcome = pipeline.sync(name)

    assert len(killed) == 1, "the write never happened"
    assert outcome.success, outcome.error
    assert step_retries(pipeline.instance, outcome.run_id) == [SYNC_OP]
    pipeline.assert_matches_truth(name, tenant.name)
    assert live_duplicates(pipeline.engine) == (0, 0)


def test_connection_dropped_on_every_attempt_fails_and_leaves_rows_as_they_were(
    pipeline: Any, sim_tenant: Any, pg_url: str
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=25, tasks=4)
    pipeline.simulator.admin.mutate(tenant.name, add=3, update=5, delete=2, seed=22)
    before = pipeline.rows(name)

    with connection_killer(pipeline.engine, pg_url, "workflows", times=1000) as killed:
        outcome = pipeline.sync(name)

    assert not outcome.success
    assert len(killed) == 4, "one kill per attempt of the sync step (1 + 3 retries)"
    assert "OperationalError" in (outcome.error or "") or "terminat" in (outcome.error or ""), outcome.error
    assert pipeline.rows(name) == before, "a half-written transaction survived"

    again = pipeline.sync(name)
    assert again.success, again.error
    pipeline.assert_matches_truth(name, tenant.name)


def _counts(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            int(conn.execute(sa.select(sa.func.count()).select_from(workflows)).scalar_one()),
            int(conn.execute(sa.select(sa.func.count()).select_from(tasks)).scalar_one()),
        )


def test_sync_process_killed_mid_export_leaves_rows_intact_and_the_next_run_converges(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, tmp_path: Path
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=40, tasks=3)
    admin = sim_admin_reset
    admin.mutate(tenant.name, add=4, update=6, delete=3, seed=23)
    before = pipeline.rows(name)
    admin.set_limits(latency_ms=150)
    admin.reset_stats()
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = dict(os.environ, DAGSTER_HOME=str(home), ZUORA_PIPELINE_DATA_DIR=str(tmp_path))
    cli = str(Path(sys.executable).parent / "zuora-pipeline")

    process = subprocess.Popen(
        [cli, "sync", "--customer", name, "--in-process", "--force", "--full-refresh"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:

        def exports_in_flight() -> bool:
            assert process.poll() is None, "the sync finished before it could be killed"
            stats = admin.stats()
            return stats["by_endpoint"].get("export", 0) >= 3 and stats["in_flight"].get(tenant.name, 0) > 0

        wait_until(exports_in_flight, timeout=90, interval=0.02, what="exports in flight")
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert tenant.client_secret.encode() not in cmdline
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    assert pipeline.rows(name) == before, "the killed sync left a partial write"
    admin.set_limits(latency_ms=0)
    outcome = pipeline.sync(name)  # blocks on the customer lock until PostgreSQL drops the dead session

    assert outcome.success, outcome.error
    pipeline.assert_matches_truth(name, tenant.name)
    assert live_duplicates(pipeline.engine) == (0, 0)
    truth = admin.truth(tenant.name)
    live_after = {z for z, r in pipeline.rows(name).items() if r["deleted_at"] is None}
    assert live_after == set(truth)
    assert _counts(pipeline.engine)[0] == len(set(before) | set(truth))
