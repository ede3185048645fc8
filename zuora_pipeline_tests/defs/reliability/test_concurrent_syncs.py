"""Fault family 9: two syncs of the same customer at once, bypassing Dagster's run queue (a CLI
``--in-process`` run and an in-process run, as CLI + schedule would be). The per-customer advisory
lock serializes their write transactions; both finish and the warehouse equals the truth."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from zuora_pipeline.runs.inprocess import SyncOutcome, run_sync
from zuora_pipeline.warehouse.schema import sync_runs
from zuora_pipeline.warehouse.transactions import _LOCK_NAMESPACE
from zuora_pipeline_tests.defs.reliability.support import live_duplicates, synced_customer, wait_until


class LockTrace:
    """Orders every customer-lock acquisition and the end of its transaction, per connection."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.events: list[tuple[int, str, int]] = []  # (sequence, "acquired"|"released", connection)
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._holding: dict[int, str] = {}  # connection -> "xact" | "session"

    def _after(self, conn: sa.Connection, cursor: Any, statement: str, *args: Any) -> None:
        # A transaction-scoped lock (held until commit/rollback) or a session lock a step holds
        # across its network I/O (held until pg_advisory_unlock).
        scope = ""
        if "pg_advisory_xact_lock" in statement:
            scope = "xact"
        elif "pg_advisory_lock(" in statement:
            scope = "session"
        if scope:
            with self._lock:
                self._holding[id(conn)] = scope
                self.events.append((next(self._seq), "acquired", id(conn)))

    def _before(self, conn: sa.Connection, cursor: Any, statement: str, *args: Any) -> None:
        if "pg_advisory_unlock(" in statement:
            self._release(conn, "session")

    def _end(self, conn: sa.Connection) -> None:
        self._release(conn, "xact")

    def _release(self, conn: sa.Connection, scope: str) -> None:
        with self._lock:
            if self._holding.get(id(conn)) == scope:
                del self._holding[id(conn)]
                self.events.append((next(self._seq), "released", id(conn)))

    def __enter__(self) -> LockTrace:
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "commit", self._end)
        sa.event.listen(self.engine, "rollback", self._end)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "after_cursor_execute", self._after)
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "commit", self._end)
        sa.event.remove(self.engine, "rollback", self._end)

    def assert_serialized(self) -> int:
        holder: int | None = None
        held = 0
        for _seq, kind, conn in sorted(self.events):
            if kind == "acquired":
                assert holder is None, "two transactions held the same customer's lock at once"
                holder, held = conn, held + 1
            else:
                assert holder == conn
                holder = None
        return held


def test_two_simultaneous_syncs_of_one_customer_are_serialized(
    pipeline: Any, sim_tenant: Any, pg_url: str, tmp_path: Path
) -> None:
    """An in-process run (traced) and a CLI ``sync --in-process`` in another process. Two
    in-process runs in one Python process are not an option: Dagster reconfigures ``logging``
    at each run's start, which can deadlock against another thread's run emitting events."""
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=30, tasks=3)
    pipeline.simulator.admin.mutate(tenant.name, add=3, update=4, delete=2, seed=31)
    customer_id = pipeline.customer(name).id
    outcomes: dict[str, SyncOutcome] = {}
    gate = sa.create_engine(pg_url, poolclass=NullPool)
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = dict(os.environ, DAGSTER_HOME=str(home), ZUORA_PIPELINE_DATA_DIR=str(tmp_path))
    cli = str(Path(sys.executable).parent / "zuora-pipeline")

    with LockTrace(pipeline.engine) as trace:
        worker = threading.Thread(
            target=lambda: outcomes.update(run=run_sync(pipeline.instance, pipeline.engine, name))
        )
        # Hold the customer's lock ourselves until both syncs are queued behind it, so they
        # really do contend (observed in pg_locks), whatever their start-up times.
        with gate.connect() as conn, conn.begin():
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(:ns, :cid)"), {"ns": _LOCK_NAMESPACE, "cid": customer_id}
            )
            process = subprocess.Popen(
                [cli, "sync", "--customer", name, "--in-process", "--force"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            worker.start()

            def both_waiting() -> bool:
                assert process.poll() is None, process.communicate()
                with gate.connect() as probe:
                    return (
                        probe.execute(
                            sa.text(
                                "SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' "
                                "AND classid = :ns AND objid = :cid AND NOT granted"
                            ),
                            {"ns": _LOCK_NAMESPACE, "cid": customer_id},
                        ).scalar_one()
                        == 2
                    )

            wait_until(both_waiting, timeout=120, interval=0.05, what="both syncs to wait on the customer lock")
        out, err = process.communicate(timeout=300)
        worker.join(timeout=300)
        assert not worker.is_alive()
    gate.dispose()

    assert process.returncode == 0, out + err
    assert outcomes["run"].success, outcomes["run"].error
    # The traced run took the customer's lock once and held it for its whole sync (its steps'
    # own transaction locks are taken inside it, by the same thread, without a second lock).
    assert trace.assert_serialized() == 1
    pipeline.assert_matches_truth(name, tenant.name)
    assert live_duplicates(pipeline.engine) == (0, 0)
    with pipeline.engine.connect() as conn:
        records = conn.execute(
            sa.select(sync_runs.c.run_id, sync_runs.c.created, sync_runs.c.updated, sync_runs.c.deleted)
            .where(sync_runs.c.customer_id == customer_id)
            .order_by(sync_runs.c.id.desc())
            .limit(2)
        ).all()
    assert outcomes["run"].run_id in {r.run_id for r in records}
    changed = sorted(int(r.created or 0) + int(r.updated or 0) + int(r.deleted or 0) for r in records)
    assert changed == [0, 3 + 4 + 2], "the changes were applied once, by whichever sync went first"
