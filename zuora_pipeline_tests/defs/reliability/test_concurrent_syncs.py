"""Fault family 9: two syncs of the same customer at once, bypassing Dagster's run queue (two
in-process runs, as two CLI invocations or CLI + schedule would be). The per-customer advisory
lock serializes their write transactions; both finish and the warehouse equals the truth."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from zuora_pipeline.defs.runner import SyncOutcome, ensure_partitions, run_sync
from zuora_pipeline.warehouse.transactions import _LOCK_NAMESPACE
from zuora_pipeline_tests.defs.reliability.support import live_duplicates, synced_customer, wait_until


class LockTrace:
    """Orders every customer-lock acquisition and the end of its transaction, per connection."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.events: list[tuple[int, str, int]] = []  # (sequence, "acquired"|"released", connection)
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._holding: set[int] = set()

    def _after(self, conn: sa.Connection, cursor: Any, statement: str, *args: Any) -> None:
        if "pg_advisory_xact_lock" in statement:
            with self._lock:
                self._holding.add(id(conn))
                self.events.append((next(self._seq), "acquired", id(conn)))

    def _end(self, conn: sa.Connection) -> None:
        with self._lock:
            if id(conn) in self._holding:
                self._holding.discard(id(conn))
                self.events.append((next(self._seq), "released", id(conn)))

    def __enter__(self) -> LockTrace:
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        sa.event.listen(self.engine, "commit", self._end)
        sa.event.listen(self.engine, "rollback", self._end)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "after_cursor_execute", self._after)
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
    pipeline: Any, sim_tenant: Any, pg_url: str
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=30, tasks=3)
    pipeline.simulator.admin.mutate(tenant.name, add=3, update=4, delete=2, seed=31)
    customer_id = pipeline.customer(name).id
    outcomes: dict[str, SyncOutcome] = {}
    gate = sa.create_engine(pg_url, poolclass=NullPool)

    with dg.instance_for_test() as second, LockTrace(pipeline.engine) as trace:
        ensure_partitions(second, [name])
        workers = [
            threading.Thread(target=lambda i=inst, k=key: outcomes.update({k: run_sync(i, pipeline.engine, name)}))
            for key, inst in (("first", pipeline.instance), ("second", second))
        ]
        # Hold the customer's lock ourselves until both syncs are queued behind it, so they
        # really do contend (observed in pg_locks), whatever the threads' start-up times.
        with gate.connect() as conn, conn.begin():
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(:ns, :cid)"), {"ns": _LOCK_NAMESPACE, "cid": customer_id}
            )
            for worker in workers:
                worker.start()

            def both_waiting() -> bool:
                with gate.connect() as probe:
                    return probe.execute(
                        sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :ns "
                                "AND objid = :cid AND NOT granted"),
                        {"ns": _LOCK_NAMESPACE, "cid": customer_id},
                    ).scalar_one() == 2

            wait_until(both_waiting, timeout=120, interval=0.05, what="both syncs to wait on the customer lock")
        for worker in workers:
            worker.join(timeout=300)
        assert not any(w.is_alive() for w in workers)
    gate.dispose()

    assert outcomes["first"].success, outcomes["first"].error
    assert outcomes["second"].success, outcomes["second"].error
    # Three write transactions per sync (fetch, workflows, tasks), one after another.
    assert trace.assert_serialized() == 6
    pipeline.assert_matches_truth(name, tenant.name)
    assert live_duplicates(pipeline.engine) == (0, 0)
    changed = sorted(o.stats["created"] + o.stats["updated"] + o.stats["deleted"] for o in outcomes.values())
    assert changed == [0, 3 + 4 + 2], "the changes were applied once, by whichever sync went first"
