"""Transactions and per-customer locks.

Every asset's writes for one customer commit in one transaction, so a crash mid-asset leaves the
previous state intact. The customer lock serializes two syncs of the same customer that bypass
Dagster's run queue (two CLI runs, CLI plus schedule): a transaction-scoped advisory lock on
PostgreSQL; SQLite already admits one writer at a time (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# Advisory-lock namespace so our locks cannot collide with another application's on the server.
_LOCK_NAMESPACE = 0x5A0A

# The customers whose sync lock this thread holds: the lock is reentrant within a thread, so a
# whole sync can hold it while its steps, which take it themselves, run inside.
_held = threading.local()


def _held_ids() -> set[int]:
    ids: set[int] | None = getattr(_held, "customer_ids", None)
    if ids is None:
        ids = _held.customer_ids = set()
    return ids


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as conn:
        conn.info["write"] = True
        try:
            with conn.begin():
                yield conn
        finally:
            conn.info.pop("write", None)


@contextmanager
def read_connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as conn:
        yield conn


def lock_customer(conn: sa.Connection, customer_id: int) -> None:
    """Hold the customer's sync lock until the surrounding transaction ends (at once if this
    thread already holds it through ``customer_sync_lock``)."""
    if conn.dialect.name == "postgresql" and int(customer_id) not in _held_ids():
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:ns, :cid)"),
            {"ns": _LOCK_NAMESPACE, "cid": int(customer_id)},
        )


@contextmanager
def customer_sync_lock(engine: sa.Engine, customer_id: int) -> Iterator[None]:
    """Hold the customer's sync lock across a whole step that does network I/O, without holding
    a write transaction open: a session-level advisory lock on its own connection (PostgreSQL;
    released by the server if the process dies), or an exclusive file lock next to the SQLite file.
    Conflicts with ``lock_customer`` of the same customer, so the steps of two syncs of one
    customer never interleave. Reentrant: a thread already holding it just goes on."""
    held = _held_ids()
    if int(customer_id) in held:
        yield
        return
    held.add(int(customer_id))
    try:
        with _session_lock(engine, customer_id):
            yield
    finally:
        held.discard(int(customer_id))


@contextmanager
def _session_lock(engine: sa.Engine, customer_id: int) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = {"ns": _LOCK_NAMESPACE, "cid": int(customer_id)}
            conn.execute(sa.text("SELECT pg_advisory_lock(:ns, :cid)"), key)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:ns, :cid)"), key)
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.customer-{int(customer_id)}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def customer_sync_lock_if_free(engine: sa.Engine, customer_id: int) -> Iterator[bool]:
    """The customer's sync lock if nobody holds it now (yields True, held for the block), else
    False at once: whether any process, on any host, is syncing the customer, asked without
    waiting."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = {"ns": _LOCK_NAMESPACE, "cid": int(customer_id)}
            got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:ns, :cid)"), key).scalar_one())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:ns, :cid)"), key)
                    conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield True
        return
    with open(f"{database}.customer-{int(customer_id)}.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
