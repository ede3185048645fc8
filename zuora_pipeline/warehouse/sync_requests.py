"""Sync requests: the syncs the CLI queues, and the heartbeat of the sensor that runs them.

A request is one customer's sync with its options. Its life, each step written by one side:

- the CLI ``request``\\ s it (or ``withdraw``\\ s it while nobody has claimed it);
- the deployment's ``sync_requests_sensor`` ``claim``\\ s pending requests, several customers
  under one claim (one run), and asks Dagster for the claim's run; or ``drop``\\ s a request it
  will not run (the customer was paused meanwhile);
- the sensor ``assign``\\ s the run it finds for a claim, ``follow``\\ s the run's automatic retry,
  and ``finish``\\ es the request when the run has ended.

The customer's sync itself is recorded in ``sync_runs`` by the run, as for every sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import customers, sensor_heartbeats, sync_request_runs, sync_requests, sync_runs
from zuora_pipeline.warehouse.upsert import upsert

NOT_RUN = "NOT_RUN"


@dataclass(frozen=True)
class SyncRequest:
    id: int
    customer: str
    full_refresh: bool
    allow_mass_delete: bool
    claim: str | None
    claimed_at: datetime | None
    run_id: str | None
    run_status: str | None
    run_started_at: datetime | None
    run_finished_at: datetime | None
    run_error: str | None

    @property
    def ended(self) -> bool:
        return self.run_status is not None


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time here is UTC.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _select() -> sa.Select:
    r = sync_requests.c
    return sa.select(
        r.id,
        customers.c.name.label("customer"),
        r.full_refresh,
        r.allow_mass_delete,
        r.claim,
        r.claimed_at,
        r.run_id,
        r.run_status,
        r.run_started_at,
        r.run_finished_at,
        r.run_error,
    ).join(customers, customers.c.id == r.customer_id)


def _rows(conn: sa.Connection, query: sa.Select) -> list[SyncRequest]:
    found = []
    for row in conn.execute(query.order_by(sync_requests.c.id)):
        values = dict(row._mapping)
        for column in ("claimed_at", "run_started_at", "run_finished_at"):
            values[column] = _utc(values[column])
        found.append(SyncRequest(**values))
    return found


def request(
    conn: sa.Connection, customer_ids: Sequence[int], *, full_refresh: bool = False, allow_mass_delete: bool = False
) -> list[int]:
    """One pending request per customer; their ids, in the order of ``customer_ids``."""
    ids = []
    for customer_id in customer_ids:
        inserted = conn.execute(
            sa.insert(sync_requests)
            .values(customer_id=customer_id, full_refresh=full_refresh, allow_mass_delete=allow_mass_delete)
            .returning(sync_requests.c.id)
        )
        ids.append(int(inserted.scalar_one()))
    return ids


def load(conn: sa.Connection, ids: Sequence[int]) -> list[SyncRequest]:
    """These requests as they stand (a removed customer's requests are gone with it)."""
    return _rows(conn, _select().where(sync_requests.c.id.in_(list(ids))))


def withdraw(conn: sa.Connection, ids: Sequence[int]) -> list[int]:
    """Delete those of these requests that no sensor has claimed; the ids deleted. A claimed one
    stays: its run is being made."""
    deleted = conn.execute(
        sa.delete(sync_requests)
        .where(sync_requests.c.id.in_(list(ids)), sync_requests.c.claim.is_(None))
        .returning(sync_requests.c.id)
    )
    return sorted(int(i) for i in deleted.scalars())


def pending(conn: sa.Connection) -> list[SyncRequest]:
    """Requests no sensor has claimed yet, oldest first."""
    r = sync_requests.c
    return _rows(conn, _select().where(r.claim.is_(None), r.run_status.is_(None)))


def claim(conn: sa.Connection, ids: Sequence[int], claim_id: str) -> list[int]:
    """Claim these requests for one run; the ids actually claimed (a request withdrawn or
    claimed meanwhile is not)."""
    r = sync_requests.c
    claimed = conn.execute(
        sa.update(sync_requests)
        .where(r.id.in_(list(ids)), r.claim.is_(None), r.run_status.is_(None))
        .values(claim=claim_id, claimed_at=sa.func.current_timestamp())
        .returning(r.id)
    )
    return sorted(int(i) for i in claimed.scalars())


def drop(conn: sa.Connection, ids: Sequence[int], reason: str) -> None:
    """End these pending requests without a run."""
    r = sync_requests.c
    conn.execute(
        sa.update(sync_requests)
        .where(r.id.in_(list(ids)), r.claim.is_(None), r.run_status.is_(None))
        .values(run_status=NOT_RUN, run_error=reason)
    )


def claims_without_run(conn: sa.Connection, *, older_than_s: float = 0.0) -> dict[str, list[SyncRequest]]:
    """Claimed requests whose run the sensor has not found yet, by claim; with ``older_than_s``,
    only those claimed at least that long ago by the database's clock."""
    r = sync_requests.c
    now = _utc(conn.execute(sa.select(sa.func.current_timestamp())).scalar_one())
    assert now is not None
    found: dict[str, list[SyncRequest]] = {}
    for row in _rows(conn, _select().where(r.claim.is_not(None), r.run_id.is_(None), r.run_status.is_(None))):
        if row.claimed_at is not None and (now - row.claimed_at).total_seconds() >= older_than_s:
            found.setdefault(row.claim or "", []).append(row)
    return found


def _link(conn: sa.Connection, claims: Sequence[str], run_id: str) -> None:
    rows = [{"claim": claim_id, "run_id": run_id} for claim_id in claims]
    upsert(conn, sync_request_runs, rows, keys=["claim", "run_id"], update=[])


def assign(conn: sa.Connection, claim_id: str, run_id: str) -> None:
    """The claim's run exists: its requests wait for it."""
    r = sync_requests.c
    conn.execute(sa.update(sync_requests).where(r.claim == claim_id, r.run_id.is_(None)).values(run_id=run_id))
    _link(conn, [claim_id], run_id)


def running(conn: sa.Connection) -> list[str]:
    """The runs of requests that have not ended."""
    r = sync_requests.c
    query = sa.select(r.run_id).where(r.run_id.is_not(None), r.run_status.is_(None)).distinct()
    return sorted(conn.execute(query).scalars())


def follow(conn: sa.Connection, run_id: str, retry_run_id: str) -> None:
    """The run failed and Dagster retries it: the requests now wait for the retry."""
    r = sync_requests.c
    waiting = r.run_id == run_id, r.run_status.is_(None)
    claims = list(conn.execute(sa.select(r.claim).where(*waiting).distinct()).scalars())
    conn.execute(sa.update(sync_requests).where(*waiting).values(run_id=retry_run_id))
    _link(conn, claims, retry_run_id)


def finish(
    conn: sa.Connection,
    run_id: str,
    status: str,
    *,
    started_at: datetime | None,
    finished_at: datetime | None,
    error: str | None,
) -> None:
    """The run ended (``started_at`` is None for a run that never started)."""
    r = sync_requests.c
    conn.execute(
        sa.update(sync_requests)
        .where(r.run_id == run_id, r.run_status.is_(None))
        .values(run_status=status, run_started_at=started_at, run_finished_at=finished_at, run_error=error)
    )


def sync_records(conn: sa.Connection, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The sync records (``sync_runs`` rows) that the runs of each request's claim wrote for its
    customer, by request id, oldest first."""
    r, link, s = sync_requests.c, sync_request_runs.c, sync_runs.c
    query = (
        sa.select(r.id.label("request_id"), sync_runs)
        .join(sync_request_runs, link.claim == r.claim)
        .join(sync_runs, sa.and_(s.run_id == link.run_id, s.customer_id == r.customer_id))
        .where(r.id.in_(list(ids)))
        .order_by(s.started_at, s.id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(query):
        values = dict(row._mapping)
        found.setdefault(values.pop("request_id"), []).append(values)
    return found


def beat(conn: sa.Connection, sensor: str) -> None:
    """The sensor ran now (the database server's time)."""
    now = sa.func.current_timestamp()
    updated = conn.execute(sa.update(sensor_heartbeats).where(sensor_heartbeats.c.sensor == sensor).values(beat_at=now))
    if not updated.rowcount:
        conn.execute(sa.insert(sensor_heartbeats).values(sensor=sensor, beat_at=now))


def heartbeat_age_s(conn: sa.Connection, sensor: str) -> float | None:
    """Seconds since the sensor last ran, by the database server's clock; None if it never has."""
    row = conn.execute(
        sa.select(sensor_heartbeats.c.beat_at, sa.func.current_timestamp().label("now")).where(
            sensor_heartbeats.c.sensor == sensor
        )
    ).first()
    if row is None:
        return None
    beat_at, now = _utc(row.beat_at), _utc(row.now)
    assert beat_at is not None and now is not None
    return max((now - beat_at).total_seconds(), 0.0)
