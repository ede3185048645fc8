"""Transactions and the per-customer sync lock.

Every stage's writes for one customer commit in one transaction, so a crash mid-stage leaves the
previous state intact. The customer lock serializes two syncs of the same customer that bypass
Dagster's run queue (two CLI runs, CLI plus schedule, runs of several customers).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

# Advisory-lock namespace so our locks cannot collide with another application's on the server.
_LOCK_NAMESPACE = 0x5A0A


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
def customer_sync_lock(engine: sa.Engine, customer_id: int) -> Iterator[None]:
    """Hold the customer's sync lock across a whole sync, which does network I/O, without holding
    a write transaction open: a session-level advisory lock on its own connection (PostgreSQL;
    released by the server if the process dies), or an exclusive file lock next to the SQLite file.
    Two syncs of one customer (two runs, a run and the CLI) never interleave: the second waits."""
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
