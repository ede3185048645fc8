"""Syncs whose process is gone: a sync record still ``running`` while nobody holds the customer's
sync lock.

A live sync holds its customer's lock from before it writes ``started`` until after it writes its
end, so only a sync whose process died without ending it (its host crashed, it was killed)
leaves such a record: PostgreSQL releases a dead session's advisory locks, and the operating
system a dead process's file lock beside a SQLite warehouse. Ending the record (``failed``,
retryable) sets the customer's last sync right again; the Dagster run it belonged to is the
caller's to end.
"""

from __future__ import annotations

import sqlalchemy as sa

from zuora_pipeline.warehouse import sync_runs
from zuora_pipeline.warehouse.schema import customers
from zuora_pipeline.warehouse.transactions import customer_sync_lock_if_free, write_transaction

MESSAGE = "the sync's process stopped before the sync ended (its host crashed or it was killed)"


def end_abandoned(engine: sa.Engine) -> list[tuple[int, str]]:
    """End every abandoned sync record as failed; (customer id, run id) of each."""
    with engine.connect() as conn:
        running = list(
            conn.execute(sa.select(customers.c.id).where(customers.c.last_sync_status == sync_runs.RUNNING)).scalars()
        )
    ended = []
    for customer_id in running:
        with customer_sync_lock_if_free(engine, customer_id) as free:
            if not free:  # a sync of the customer is running
                continue
            with write_transaction(engine) as conn:
                record = sync_runs.latest(conn, customer_id)
                if record is None or record["status"] != sync_runs.RUNNING:
                    continue
                sync_runs.failed(conn, customer_id, record["run_id"], MESSAGE, retryable=True)
            ended.append((customer_id, str(record["run_id"])))
    return ended
