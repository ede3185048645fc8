"""Transactions and per-customer locks.

Every asset's writes for one customer commit in one transaction, so a crash mid-asset leaves the
previous state intact. The customer lock serializes two syncs of the same customer that bypass
Dagster's run queue (two CLI runs, CLI plus schedule): a transaction-scoped advisory lock on
PostgreSQL; SQLite already admits one writer at a time (BEGIN IMMEDIATE).
"""

from __future__ import annotations

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
def read_connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as conn:
        yield conn


def lock_customer(conn: sa.Connection, customer_id: int) -> None:
    """Hold the customer's sync lock until the surrounding transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:ns, :cid)"),
            {"ns": _LOCK_NAMESPACE, "cid": int(customer_id)},
        )
