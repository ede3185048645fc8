"""Queued syncs for the CLI, through the warehouse alone.

``sync`` without ``--in-process`` records one sync request per customer in the warehouse
(``warehouse/sync_requests.py``). The deployment's ``sync_requests_sensor``, evaluated by its
Dagster daemon, turns them into runs of ``sync_customer_workflows`` (runs of several customers,
as the hourly schedule makes them) and writes each run's id and end back; each customer's sync
writes its own record (``sync_runs``). So the CLI needs only the warehouse URL: no Dagster
instance, no code location, no route to the webserver or the code servers. The runs are made by
Dagster's own sensor machinery, so they carry the origin of whatever code location loaded the
sensor, whatever it is named, and any run launcher launches them.

The CLI queues nothing when the sensor's heartbeat says no daemon is evaluating it: it says so in
one line, with how to point it at the deployment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.logic.stats import Stats
from zuora_pipeline.runs.outcome import SyncOutcome
from zuora_pipeline.warehouse import sync_requests, sync_runs
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.sync_requests import SyncRequest
from zuora_pipeline.warehouse.transactions import write_transaction

# The sensor's name as the code location declares it (``defs/sync_requests.py``), kept here too
# so the CLI imports no Dagster; a test checks the two agree.
SENSOR_NAME = "sync_requests_sensor"
# The sensor beats every ~5 s; a daemon restart takes well under a minute.
STALE_AFTER_S = 60.0
# How long a request may wait for its run before the CLI withdraws it: the sensor makes it
# within a loop or two of the daemon (~5-10 s) while its heartbeat is fresh.
PICKUP_TIMEOUT_S = 60.0
POLL_S = 1.0


class NotWatchedError(Exception):
    """No Dagster daemon is turning this warehouse's sync requests into runs."""


def _where(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _not_watched(engine: sa.Engine, age_s: float | None) -> str:
    seen = "has ever evaluated" if age_s is None else f"has evaluated in the last {age_s:.0f} s"
    return (
        f"no Dagster daemon {seen} {SENSOR_NAME}, which runs the syncs queued on the warehouse "
        f"{_where(engine)}: point ZUORA_PIPELINE_DATABASE_URL at the deployment's warehouse, or start its "
        f"daemon (`dagster dev`, or `dagster-daemon run` with the code location) with {SENSOR_NAME} running; "
        "`--in-process` syncs here instead"
    )


def require_watcher(engine: sa.Engine) -> None:
    """Raise ``NotWatchedError`` (one line) unless a daemon evaluated the sensor lately."""
    with engine.connect() as conn:
        age = sync_requests.heartbeat_age_s(conn, SENSOR_NAME)
    if age is None or age > STALE_AFTER_S:
        raise NotWatchedError(_not_watched(engine, age))


def queue(
    engine: sa.Engine, chosen: Sequence[Customer], *, full_refresh: bool = False, allow_mass_delete: bool = False
) -> list[int]:
    """One sync request per customer, in one transaction; their ids."""
    with write_transaction(engine) as conn:
        return sync_requests.request(
            conn, [c.id for c in chosen], full_refresh=full_refresh, allow_mass_delete=allow_mass_delete
        )


@dataclass(frozen=True)
class Queued:
    """The customer's run exists (``run_id`` is None if the sensor claimed the request but its run
    was not seen before the CLI stopped waiting)."""

    customer: str
    run_id: str | None


@dataclass(frozen=True)
class Finished:
    outcome: SyncOutcome


@dataclass(frozen=True)
class Unfinished:
    """Waiting stopped first; a request nobody claimed was withdrawn (``run_id`` None)."""

    customer: str
    run_id: str | None
    reason: str


Event = Queued | Finished | Unfinished


def _seconds(started: datetime | None, finished: datetime | None) -> float | None:
    if started is None or finished is None:
        return None
    return max((finished - started).total_seconds(), 0.0)


def outcome(request: SyncRequest, records: list[dict[str, Any]]) -> SyncOutcome | None:
    """The customer's outcome once known: its successful sync record as soon as there is one (a
    run of several customers reports each as it finishes), else what the run's end says; None
    while it may still succeed."""
    done = next((r for r in records if r["status"] == sync_runs.SUCCESS), None)
    if done is not None:
        return SyncOutcome(
            request.customer,
            True,
            done["run_id"],
            _seconds(done["started_at"], done["finished_at"]),
            Stats.from_mapping(done),
        )
    if not request.ended:
        return None
    if request.run_status == sync_requests.NOT_RUN:
        return SyncOutcome(request.customer, False, None, None, error=request.run_error)
    last = records[-1] if records else None
    seconds = _seconds(last["started_at"], last["finished_at"]) if last is not None else None
    if seconds is None:  # its sync did not end (or never began): the run's time, if it ever started
        seconds = _seconds(request.run_started_at, request.run_finished_at)
    error = (last or {}).get("error_message") or request.run_error
    return SyncOutcome(
        request.customer,
        False,
        request.run_id,
        seconds,
        Stats.from_mapping(last) if last is not None else None,
        error or f"run {request.run_id} ended ({request.run_status}) without syncing {request.customer}",
    )


def follow(
    engine: sa.Engine,
    ids: Sequence[int],
    *,
    outcomes: bool,
    timeout_s: float,
    poll_s: float = POLL_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Event]:
    """``Queued`` for each request as its run appears; with ``outcomes``, ``Finished`` for each
    customer as its sync ends (else it stops once every run exists). A request nobody claimed
    within ``PICKUP_TIMEOUT_S`` (or before ``timeout_s``), or once the sensor's heartbeat went
    stale, is withdrawn; what is left when ``timeout_s`` has passed ends as ``Unfinished``."""
    start = clock()
    deadline, pickup = start + timeout_s, start + min(timeout_s, PICKUP_TIMEOUT_S)
    left = list(dict.fromkeys(ids))
    announced: set[int] = set()
    names: dict[int, str] = {}
    while True:
        with engine.connect() as conn:
            rows = {r.id: r for r in sync_requests.load(conn, left)}
            records = sync_requests.sync_records(conn, left) if outcomes else {}
            age = sync_requests.heartbeat_age_s(conn, SENSOR_NAME)
        for request_id in [i for i in left if i not in rows]:  # its customer was removed
            left.remove(request_id)
            name = names.get(request_id, f"request {request_id}")
            yield Finished(SyncOutcome(name, False, None, None, error="customer removed meanwhile"))
        for request in rows.values():
            names[request.id] = request.customer
            if request.run_id is not None and request.id not in announced:
                announced.add(request.id)
                yield Queued(request.customer, request.run_id)
            ended = outcome(request, records.get(request.id, [])) if outcomes else None
            if ended is None and not outcomes and request.ended and request.run_id is None:
                ended = outcome(request, [])  # dropped before it had a run
            if ended is not None:
                left.remove(request.id)
                yield Finished(ended)
        if not outcomes:
            left = [i for i in left if i not in announced]
        if not left:
            return
        now = clock()
        unclaimed = [rows[i].id for i in left if rows[i].claim is None]
        stale = age is None or age > STALE_AFTER_S
        if unclaimed and (now >= pickup or stale):
            with write_transaction(engine) as conn:
                withdrawn = sync_requests.withdraw(conn, unclaimed)
            reason = (
                _not_watched(engine, age)
                if stale
                else f"not picked up by a Dagster daemon within {pickup - start:g} s (withdrawn)"
            )
            for request_id in withdrawn:
                left.remove(request_id)
                yield Unfinished(rows[request_id].customer, None, reason)
        if not outcomes and now >= pickup:
            for request_id in [i for i in left if rows[i].claim is not None]:
                left.remove(request_id)
                yield Queued(rows[request_id].customer, None)
        if not left:
            return
        if now >= deadline:
            for request_id in left:
                run_id = rows[request_id].run_id
                waited = f"after {timeout_s:g} s"
                reason = f"run {run_id} not finished {waited}" if run_id else f"claimed, but no run seen {waited}"
                yield Unfinished(rows[request_id].customer, run_id, reason)
            return
        sleep(min(poll_s, max(deadline - clock(), 0.0)))
