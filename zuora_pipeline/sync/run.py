"""The customers of one run: each synced in a thread of its own, a few at a time.

A run of several customers (the hourly schedule, a backfill, the CLI's ``sync --all``) costs one
Python process and one run's worth of Dagster overhead instead of one per customer. Each customer
has its own Zuora client and its own transactions, so its sync is exactly what a run of one would
do, and its result is handed back as soon as it is ready.

A retry of the run (a step retry, or a re-execution of a failed run from failure) re-syncs only the
customers whose earlier attempt failed transiently: ``settled`` finds the rest in the sync records
of this run and of the runs it re-executes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

import sqlalchemy as sa

from zuora_pipeline.sync.customer import ClientFactory, SyncRequest, sync_customer
from zuora_pipeline.sync.results import CustomerResult, FailureKind, SyncFailure
from zuora_pipeline.warehouse import customers, sync_runs

# Customers of one run synced at the same time. A sync is latency-bound but its CPU shares one
# interpreter lock; each customer in flight also holds up to three warehouse connections (its
# lock, its reads, its staging writer) of the engine's 15.
CUSTOMERS_AT_ONCE = 4


def settled(
    engine: sa.Engine, names: Sequence[str], run_id: str, earlier_run_ids: Sequence[str]
) -> list[CustomerResult]:
    """Customers a retry of ``run_id`` leaves alone: synced already by it or by the runs it
    re-executes (an empty result), or failed in an earlier attempt of this run with an error
    that waiting cannot cure (that failure, reported again)."""
    with engine.connect() as conn:
        ids = {c.id: c.name for name in names if (c := customers.find(conn, name)) is not None}
        records = sync_runs.outcomes(conn, [run_id, *earlier_run_ids])
    results: list[CustomerResult] = []
    for customer_id, rows in records.items():
        name = ids.get(customer_id)
        if name is None:
            continue
        if any(row["status"] == sync_runs.SUCCESS for row in rows):
            results.append(CustomerResult(name, log=[f"{name}: already synced by this run or the one it re-executes"]))
            continue
        mine = [row for row in rows if row["run_id"] == run_id]
        if any(row["status"] == sync_runs.FAILED and row["retryable"] is False for row in mine):
            message = f"{mine[0]['error_message']} (not retried)"
            results.append(CustomerResult(name, failure=SyncFailure(message, FailureKind.DETERMINISTIC)))
    return results


def sync_customers(
    engine: sa.Engine, names: Sequence[str], request: SyncRequest, client_for: ClientFactory
) -> Iterator[CustomerResult]:
    """Each customer's result as soon as its sync ends."""
    if len(names) == 1:
        yield sync_customer(engine, names[0], request, client_for)
        return
    with ThreadPoolExecutor(max_workers=min(len(names), CUSTOMERS_AT_ONCE), thread_name_prefix="customer") as pool:
        futures = [pool.submit(sync_customer, engine, name, request, client_for) for name in names]
        for future in as_completed(futures):
            yield future.result()
