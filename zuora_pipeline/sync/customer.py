"""One customer's sync, end to end: the one owner of it.

``sync_customer`` takes the customer's sync lock once and holds it to the end, runs the stages in
order, each followed by its checks (fetch: the listing and the exports; workflows: the rows and
their history; tasks: extracted from the stored exports), stops before a stage that a failed
blocking check guards, makes every transition of the sync record (``warehouse/sync_runs.py``),
classifies what failed (``sync/errors.py``: transient, deterministic, refused credentials, which
pause the customer), and returns what happened as plain values (``sync/results.py``).

A request for some of the assets runs only their stages: ``workflow_tasks`` alone re-extracts tasks
from the stored exports without any Zuora call, and is no sync (no record, the customer's last sync
and freshness left alone). A paused customer is not synced at all: no Zuora call, only a warning.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import sqlalchemy as sa

from zuora_pipeline.sync import materializations, quality
from zuora_pipeline.sync.apply import DEFAULT_MAX_DELETE_SHARE, WorkflowsResult, apply_listing
from zuora_pipeline.sync.errors import UnknownCustomerError, failure_of, record_message
from zuora_pipeline.sync.extract import TasksResult, extract_tasks
from zuora_pipeline.sync.fetch import FetchResult, fetch_workflow_definitions
from zuora_pipeline.sync.results import (
    ASSETS,
    WORKFLOW_EXPORTS,
    WORKFLOW_PAGES,
    WORKFLOW_TASKS,
    WORKFLOWS,
    CheckOutcome,
    CustomerResult,
    FailureKind,
    Materialization,
    SyncFailure,
)
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.transactions import customer_sync_lock, customer_sync_lock_if_free, write_transaction
from zuora_pipeline.zuora import ZuoraClient

T = TypeVar("T")

# A Zuora client for the customer (its own token, limits and connection pool), closed by the sync.
ClientFactory = Callable[[Customer], ZuoraClient]


@dataclass(frozen=True)
class SyncRequest:
    """What a run asks of each of its customers."""

    run_id: str
    assets: frozenset[str] = frozenset(ASSETS)
    checks: frozenset[str] = frozenset(check.name for check in quality.CHECKS)
    full_refresh: bool = False
    """Re-export every workflow, not only those whose list entry changed."""
    allow_mass_delete: bool = False
    """Let this sync soft-delete more than ``max_delete_share`` of the customer's workflows."""
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    reextract_all: bool = False
    """Re-extract every workflow's tasks, not only those whose export changed."""

    @property
    def whole_sync(self) -> bool:
        """Every asset: a sync, with a sync record. Some of them alone only refresh those."""
        return set(ASSETS) <= self.assets

    @property
    def fetches(self) -> bool:
        return bool({WORKFLOW_PAGES, WORKFLOW_EXPORTS} & self.assets)

    def wants(self, item: Materialization | CheckOutcome) -> bool:
        if isinstance(item, CheckOutcome):
            return item.name in self.checks
        return item.asset in self.assets

    def wants_checks_of(self, asset: str) -> bool:
        return any(check.asset == asset and check.name in self.checks for check in quality.CHECKS)


class _Stopped(Exception):
    """The customer's sync ended early; its failure is in the result."""


@dataclass
class _CustomerSync:
    engine: sa.Engine
    customer: Customer
    request: SyncRequest
    client_for: ClientFactory
    result: CustomerResult
    fetched: FetchResult | None = field(default=None)

    @property
    def name(self) -> str:
        return self.customer.name

    def run(self) -> None:
        try:
            if self.request.fetches:
                self._fetch()
            else:
                self._add(quality.customer_active(self.customer))
            self._stop_if_blocked("workflows")
            if WORKFLOWS in self.request.assets:
                self._workflows()
            if self.request.wants_checks_of(WORKFLOWS):
                self._add(*self._stage(lambda: self._checks(quality.workflows_checks)))
            self._stop_if_blocked("tasks")
            if WORKFLOW_TASKS in self.request.assets:
                self._tasks()
            if self.request.wants_checks_of(WORKFLOW_TASKS):
                self._add(*self._stage(lambda: self._checks(quality.tasks_checks)))
        except _Stopped:
            pass

    # -- the stages ------------------------------------------------------------------------------

    def _fetch(self) -> None:
        request = self.request
        if request.whole_sync:
            with write_transaction(self.engine) as conn:
                sync_runs.started(conn, self.customer.id, request.run_id, full_refresh=request.full_refresh)

        def fetch() -> FetchResult:
            with self.client_for(self.customer) as client:
                return fetch_workflow_definitions(
                    self.engine,
                    self.customer,
                    client,
                    run_id=request.run_id,
                    full_refresh=request.full_refresh,
                    on_commit=self._fetched,
                )

        result = self.fetched = self._stage(fetch)
        self.result.log.append(
            f"{self.name}: {result.listed} workflows on {result.pages} pages; "
            f"{result.exports_downloaded} exports downloaded, {result.unchanged_skipped} unchanged, "
            f"{result.errors} failed"
        )
        # Materializations first: a check result judges its asset's latest materialization.
        self._add(
            materializations.pages(self.name, result),
            materializations.exports(self.name, result),
            *quality.fetch_checks(self.customer, result),
        )

    def _fetched(self, conn: sa.Connection, result: FetchResult) -> None:
        cost = materializations.fetch_stats(result)
        sync_runs.progress(
            conn,
            self.customer.id,
            self.request.run_id,
            listing_complete=True,
            pages=result.pages,
            listed=result.listed,
            exports_requested=result.exports_requested,
            exports_downloaded=result.exports_downloaded,
            errors=cost.errors,
            api_calls=cost.api_calls,
            retries=cost.retries,
        )

    def _workflows(self) -> None:
        request = self.request
        result = self._stage(
            lambda: apply_listing(
                self.engine,
                self.customer,
                run_id=request.run_id,
                allow_mass_delete=request.allow_mass_delete,
                max_delete_share=request.max_delete_share,
                on_commit=self._applied,
            )
        )
        stats = materializations.workflow_stats(result, self.fetched)
        if request.whole_sync:
            self.result.stats = stats
        self.result.log.append(
            f"{self.name}: workflows {stats.created} created, {stats.updated} updated, {stats.unchanged} "
            f"unchanged, {stats.deleted} deleted, {stats.total} in all"
        )
        self._add(materializations.workflows(self.name, result, stats), quality.shrink_guard(self.customer, result))

    def _applied(self, conn: sa.Connection, result: WorkflowsResult) -> None:
        counts = result.counts.row_counts()
        if result.shrink_guard_message is None:
            sync_runs.progress(conn, self.customer.id, self.request.run_id, **counts)
        else:
            sync_runs.failed(conn, self.customer.id, self.request.run_id, result.shrink_guard_message, **counts)

    def _tasks(self) -> None:
        result = self._stage(
            lambda: extract_tasks(
                self.engine, customer=self.customer, everything=self.request.reextract_all, on_commit=self._extracted
            )
        )
        self.result.log.append(
            f"{self.name}: tasks of {result.workflows} workflows extracted "
            f"({result.upserted} upserted, {result.deleted} removed)"
        )
        self._add(materializations.tasks(self.name, result))

    def _extracted(self, conn: sa.Connection, result: TasksResult) -> None:
        # The last stage of a sync: the whole sync succeeded (nothing is written outside a sync).
        sync_runs.succeeded(
            conn, self.customer.id, self.request.run_id, tasks_upserted=result.upserted, tasks_deleted=result.deleted
        )

    def _checks(self, checks: Callable[[sa.Connection, Customer], list[CheckOutcome]]) -> list[CheckOutcome]:
        with self.engine.connect() as conn:
            return checks(conn, self.customer)

    # -- how a stage ends ------------------------------------------------------------------------

    def _add(self, *items: Materialization | CheckOutcome) -> None:
        for item in items:
            if not self.request.wants(item):
                continue
            if isinstance(item, Materialization):
                self.result.materializations.append(item)
            else:
                self.result.checks.append(item)

    def _stage(self, stage: Callable[[], T]) -> T:
        """Run a stage; a failure is recorded (refused credentials also pause the customer) and
        ends the customer's sync."""
        try:
            return stage()
        except Exception as exc:
            failure = failure_of(exc)
            with write_transaction(self.engine) as conn:
                if failure.kind is FailureKind.CREDENTIALS:
                    sync_runs.paused(conn, self.customer.id, self.request.run_id, str(exc))
                else:
                    sync_runs.failed(
                        conn,
                        self.customer.id,
                        self.request.run_id,
                        record_message(exc),
                        retryable=failure.retryable,
                    )
            self.result.failure = failure
            raise _Stopped from exc

    def _stop_if_blocked(self, stage: str) -> None:
        """A failed blocking check ends the customer's sync before ``stage`` (a failed sync)."""
        blocked = [
            check.description or f"blocking check {check.name} failed"
            for check in self.result.checks
            if not check.passed and not check.warn_only and check.name in quality.BLOCKING
        ]
        if not blocked:
            return
        message = f"{'; '.join(blocked)} ({stage} not updated)"
        if self.request.whole_sync:
            with write_transaction(self.engine) as conn:
                sync_runs.failed(conn, self.customer.id, self.request.run_id, message)
        self.result.failure = SyncFailure(message, FailureKind.BLOCKED)
        raise _Stopped


def load_customer(engine: sa.Engine, name: str) -> Customer:
    with engine.connect() as conn:
        customer = customers.find(conn, name)
    if customer is None:
        raise UnknownCustomerError(
            f"partition {name!r} has no customer in the warehouse (removed?). Add it with "
            "`zuora-pipeline customers add`, or let customer_partitions_sensor drop the partition."
        )
    return customer


ABANDONED = "the sync's process stopped before the sync ended (its host crashed or it was killed)"


def end_abandoned(engine: sa.Engine) -> list[tuple[int, str]]:
    """End every abandoned sync as failed (retryable); (customer id, run id) of each.

    A sync is abandoned when its record is still running while nobody holds the customer's sync
    lock: a live sync holds the lock from before it writes ``started`` until after it writes its
    end, so only a sync whose process died (its host crashed, it was killed) leaves such a record
    (PostgreSQL releases a dead session's advisory locks, the operating system a dead process's
    file lock). Ending it sets the customer's last sync right again; its Dagster run is the
    caller's to end."""
    with engine.connect() as conn:
        running = sync_runs.customers_running(conn)
    ended = []
    for customer_id in running:
        with customer_sync_lock_if_free(engine, customer_id) as free:
            if not free:  # a sync of the customer is running
                continue
            with write_transaction(engine) as conn:
                record = sync_runs.latest(conn, customer_id)
                if record is None or record["status"] != sync_runs.RUNNING:
                    continue
                sync_runs.failed(conn, customer_id, record["run_id"], ABANDONED, retryable=True)
            ended.append((customer_id, str(record["run_id"])))
    return ended


def sync_customer(engine: sa.Engine, name: str, request: SyncRequest, client_for: ClientFactory) -> CustomerResult:
    """The customer's part of a run; never raises (its failure is in the result)."""
    started = time.monotonic()
    result = CustomerResult(name)
    try:
        customer = load_customer(engine, name)
        if customer.sync_status == customers.PAUSED:
            active = quality.customer_active(customer)
            if request.wants(active):
                result.checks.append(active)
            result.warnings.append(f"{name} is paused ({active.description}): not synced, no Zuora call made")
            return result
        with customer_sync_lock(engine, customer.id):
            _CustomerSync(engine, customer, request, client_for, result).run()
    except Exception as exc:  # before or around the stages (loading the customer, its lock)
        result.failure = result.failure or failure_of(exc)
    finally:
        result.seconds = time.monotonic() - started
    return result
