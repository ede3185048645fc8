"""The sync record (``sync_runs``) and the customer's sync state: the statements behind each
transition. ``sync/customer.py`` alone decides when a transition happens.

A *sync* is one run of the whole sync job for one customer: fetch (listing and exports), then
workflows, then tasks. Its transitions, and only these, are written here:

- ``started``: the fetch step begins. Creates (or, on a step retry, resets) the run's row with
  status ``running``; the customer's ``last_sync_status`` becomes ``running`` too.
- ``progress``: a step reports its counters; the status does not change.
- ``succeeded``: the last step (tasks) finished, so the whole sync succeeded. The row gets
  ``success`` and ``finished_at``; the customer gets ``last_synced_at = finished_at``,
  ``last_sync_status = success`` and no error.
- ``failed``: a step of the sync failed (or the shrink guard held deletions back). The row and the
  customer get ``failed`` and the error; ``last_synced_at`` keeps the last *successful* sync.
- ``paused``: the credentials were refused. ``failed``, and the customer is paused with the
  (scrubbed) error as its ``paused_reason``; ``pause``/``resume`` are the operator's commands.

So the customer row always agrees with its latest sync record: same status, and
``last_synced_at`` is the ``finished_at`` of its latest successful record.

A run without the fetch step is not a sync: ``reextract_tasks`` (tasks rebuilt from the stored
exports, no Zuora call) or a Materialize of ``workflows``/``workflow_tasks`` alone. It has no
record, so ``progress``/``succeeded``/``failed`` do nothing for it and the customer's sync state
(and with it freshness) is left alone; a failure of such a run is still a failed Dagster run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.warehouse import customers as customer_table
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.schema import customers, sync_runs
from zuora_pipeline.warehouse.upsert import upsert

RUNNING = "running"
SUCCESS = "success"
FAILED = "failed"

OPERATOR_PAUSE_REASON = "paused by an operator"

# The record's counters: every column but its identity, times, status and error. A sync writes
# them as it goes (``progress``) and when it ends.
COUNTERS = tuple(
    column.name
    for column in sync_runs.columns
    if column.name
    not in {
        "id",
        "customer_id",
        "run_id",
        "started_at",
        "finished_at",
        "status",
        "full_refresh",
        "error_message",
        "retryable",
    }
)


def _now() -> datetime:
    return datetime.now(UTC)


def _set_customer(conn: sa.Connection, customer_id: int, **values: object) -> None:
    conn.execute(sa.update(customers).where(customers.c.id == customer_id).values(**values, updated_at=_now()))


def _update_record(conn: sa.Connection, customer_id: int, run_id: str, **values: object) -> bool:
    result = conn.execute(
        sa.update(sync_runs)
        .where(sync_runs.c.customer_id == customer_id, sync_runs.c.run_id == run_id)
        .values(**values)
    )
    return result.rowcount > 0


def _counters(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(COUNTERS)
    if unknown:
        raise ValueError(f"not a sync counter: {sorted(unknown)}")
    return values


def started(
    conn: sa.Connection, customer_id: int, run_id: str, *, full_refresh: bool = False, at: datetime | None = None
) -> None:
    """The fetch step begins (again, after a step retry: the counters start afresh)."""
    at = at or _now()
    row: dict[str, Any] = {
        "customer_id": customer_id,
        "run_id": run_id,
        "started_at": at,
        "finished_at": None,
        "status": RUNNING,
        "error_message": None,
        "retryable": None,
        "full_refresh": full_refresh,
        **{name: (False if name == "listing_complete" else 0) for name in COUNTERS},
    }
    upsert(
        conn,
        sync_runs,
        [row],
        keys=["run_id", "customer_id"],
        update=[k for k in row if k not in ("customer_id", "run_id", "started_at")],
    )
    _set_customer(conn, customer_id, last_sync_status=RUNNING, last_sync_error=None)


def progress(conn: sa.Connection, customer_id: int, run_id: str, **counters: Any) -> bool:
    """Record a step's counters; False (and nothing written) when the run is not a sync."""
    return _update_record(conn, customer_id, run_id, **_counters(counters))


def succeeded(
    conn: sa.Connection, customer_id: int, run_id: str, *, at: datetime | None = None, **counters: Any
) -> bool:
    """The last step of the sync finished. False (nothing written) when the run is not a sync."""
    at = at or _now()
    if not _update_record(
        conn, customer_id, run_id, **_counters(counters), status=SUCCESS, finished_at=at, error_message=None
    ):
        return False
    _set_customer(conn, customer_id, last_sync_status=SUCCESS, last_sync_error=None, last_synced_at=at)
    return True


def failed(
    conn: sa.Connection,
    customer_id: int,
    run_id: str,
    error: str,
    *,
    retryable: bool = False,
    at: datetime | None = None,
    **counters: Any,
) -> bool:
    """A step of the sync failed; ``retryable`` if waiting could cure it. False (nothing
    written) when the run is not a sync."""
    at = at or _now()
    if not _update_record(
        conn,
        customer_id,
        run_id,
        **_counters(counters),
        status=FAILED,
        finished_at=at,
        error_message=error,
        retryable=retryable,
    ):
        return False
    _set_customer(conn, customer_id, last_sync_status=FAILED, last_sync_error=error)
    return True


def paused(conn: sa.Connection, customer_id: int, run_id: str, reason: str) -> None:
    """Zuora refused the credentials: the sync failed and the customer is paused until resumed."""
    failed(conn, customer_id, run_id, reason)
    _set_customer(conn, customer_id, sync_status=customer_table.PAUSED, paused_reason=reason)


def pause(conn: sa.Connection, name: str, reason: str = OPERATOR_PAUSE_REASON) -> Customer:
    """The operator's ``customers pause``: schedule, sensor and Materialize leave it alone."""
    customer = customer_table.get(conn, name)
    _set_customer(conn, customer.id, sync_status=customer_table.PAUSED, paused_reason=reason)
    return customer_table.get(conn, name)


def resume(conn: sa.Connection, name: str) -> Customer:
    """``customers resume``: active again, the pause reason cleared."""
    customer = customer_table.get(conn, name)
    _set_customer(conn, customer.id, sync_status=customer_table.ACTIVE, paused_reason=None)
    return customer_table.get(conn, name)


def customers_running(conn: sa.Connection) -> list[int]:
    """Customers whose last sync is running (or was, when its process died)."""
    query = sa.select(customers.c.id).where(customers.c.last_sync_status == RUNNING)
    return [int(customer_id) for customer_id in conn.execute(query).scalars()]


def latest(conn: sa.Connection, customer_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(sync_runs)
        .where(sync_runs.c.customer_id == customer_id)
        .order_by(sync_runs.c.started_at.desc(), sync_runs.c.id.desc())
        .limit(1)
    ).first()
    return dict(row._mapping) if row is not None else None


def outcomes(conn: sa.Connection, run_ids: list[str]) -> dict[int, list[dict[str, Any]]]:
    """Every sync record of these runs, by customer id (a run's step retries share its record;
    a re-execution of a failed run is a new run whose parent is the first)."""
    rows = conn.execute(
        sa.select(
            sync_runs.c.customer_id,
            sync_runs.c.run_id,
            sync_runs.c.status,
            sync_runs.c.error_message,
            sync_runs.c.retryable,
        ).where(sync_runs.c.run_id.in_(run_ids))
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row.customer_id, []).append(dict(row._mapping))
    return found


def for_run(conn: sa.Connection, customer_id: int, run_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(sync_runs).where(sync_runs.c.customer_id == customer_id, sync_runs.c.run_id == run_id)
    ).first()
    return dict(row._mapping) if row is not None else None
