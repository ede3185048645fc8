"""Step 1+2 of a sync: walk the listing and download the exports that changed, streaming.

A walker thread walks the listing ahead of the exports, so exports start while pages are still
being listed; the client's shared limiter keeps pages and exports together under its cap. Given
the length of the last complete listing, the client requests its pages together instead of one
after another (a re-sync of an unchanged tenant costs a few round trips, not one per page). Each
finished export is staged in batches as it arrives, by a writer thread so requests never wait for
the warehouse (short transactions: SQLite has one writer and must not be locked for the length
of a download). What the assets publish (the listing, the
promoted exports, the sync record) commits in one transaction at the end, so a failed walk (loop,
malformed page, bad credentials) leaves the previous listing and exports exactly as they were.

An export that failed in a way another request may fix (5xx, timeout or dropped connection after
the client's retries, a malformed body) is fetched again, in up to ``REFETCH_ROUNDS`` further
passes after a short pause, before it counts as an error: one sync through a few percent of faults
still leaves the customer complete. A 404 or an export missing a required field counts at once.

Before the listing may drive deletions, every stored workflow missing from it is confirmed gone
with ``GET /workflows/{id}``: page-number pagination skips an entry when a workflow is deleted
mid-walk, and a skipped entry must not turn into a soft delete.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from zuora_pipeline.logic.hashing import export_hash
from zuora_pipeline.logic.normalize import has_active_version, list_fingerprint
from zuora_pipeline.sync.fetch_threads import FetchThreads
from zuora_pipeline.warehouse import raw
from zuora_pipeline.warehouse import workflows as workflow_table
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline.zuora import (
    ExportOutcome,
    ZuoraAuthenticationError,
    ZuoraClient,
    ZuoraListingChangedError,
    ZuoraMalformedResponseError,
    ZuoraNotFoundError,
    handling,
)

EXPORT_BATCH = 100
# Further passes over the exports that failed transiently, each after REFETCH_PAUSE_S x its number
# (the client's own retries already waited out seconds-long blips; this outlasts a short burst).
REFETCH_ROUNDS = 2
REFETCH_PAUSE_S = 1.0


@dataclass
class FetchResult:
    pages: int = 0
    listed: int = 0
    without_active_version: int = 0
    exports_requested: int = 0
    exports_downloaded: int = 0
    # Of the downloaded: first exports of a workflow, and new exports replacing a stored one.
    exports_created: int = 0
    exports_updated: int = 0
    unchanged_skipped: int = 0
    errors: int = 0
    malformed_exports: int = 0
    # Exports that failed transiently and were downloaded on a further pass of this sync.
    exports_refetched: int = 0
    vanished_confirmed: int = 0
    page_numbers: list[int] = field(default_factory=list)
    distinct_ids: int = 0
    error_samples: list[str] = field(default_factory=list)
    api: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0

    @property
    def exportable(self) -> int:
        return self.listed - self.without_active_version

    @property
    def pagination_complete(self) -> bool:
        """Pages 1..N each stored once, and every listed entry a distinct workflow."""
        return self.page_numbers == list(range(1, len(self.page_numbers) + 1)) and (self.distinct_ids == self.listed)

    @property
    def coverage(self) -> float:
        """Share of exportable listed workflows whose export is current after this sync."""
        if self.exportable == 0:
            return 1.0
        return (self.exportable - self.errors) / self.exportable


def fetch_workflow_definitions(
    engine: sa.Engine,
    customer: Customer,
    client: ZuoraClient,
    *,
    run_id: str,
    full_refresh: bool = False,
    batch_size: int = EXPORT_BATCH,
    on_commit: Callable[[sa.Connection, FetchResult], None] | None = None,
) -> FetchResult:
    """The caller holds the customer's sync lock. No write transaction is held across network
    I/O: exports are staged in short transactions, and everything the fetch publishes (pages,
    exports, and what ``on_commit`` writes with them: the sync record) commits together at the end."""
    started = time.monotonic()
    result = FetchResult()
    now = datetime.now(UTC)
    with engine.connect() as conn:
        known = raw.export_fingerprints(conn, customer.id)
        live_before = [zid for zid, _hash, deleted in workflow_table.stored(conn, customer.id) if not deleted]
        # The last complete listing's length lets the walk request its pages at once.
        stored_pages, stored_items = raw.page_stats(conn, customer.id)
    with write_transaction(engine) as conn:
        raw.clear_staging(conn, customer.id)

    pages: list[raw.RawPage] = []
    fingerprints: dict[int, str] = {}
    listed_ids: set[int] = set()

    def write(exports: list[raw.RawExport]) -> None:
        with write_transaction(engine) as conn:
            raw.stage_exports(conn, customer.id, exports, run_id=run_id, at=now)

    def changed_ids() -> Iterator[int]:
        # Runs on the client's export feeder thread, as export capacity frees up.
        for page in threads.pages:
            pages.append(
                raw.RawPage(
                    page_number=page.number,
                    url=page.url,
                    body=json.dumps(page.body, ensure_ascii=False, separators=(",", ":")),
                    item_count=len(page.items),
                )
            )
            for item in page.items:
                result.listed += 1
                listed_ids.add(item.id)
                if not has_active_version(item):
                    # Its plain export would 404: there is nothing to download.
                    result.without_active_version += 1
                    continue
                fingerprint = list_fingerprint(item)
                fingerprints[item.id] = fingerprint
                if not full_refresh and known.get(item.id) == fingerprint:
                    result.unchanged_skipped += 1
                    continue
                result.exports_requested += 1
                yield item.id

    def take(outcome: ExportOutcome, *, last_try: bool, refetch: bool) -> bool:
        """Stage a downloaded export, or count its error; False if it is worth another pass."""
        error = outcome.error
        if error is not None:
            if isinstance(error, ZuoraAuthenticationError):
                raise error
            if not last_try and handling(error).fetch_again:
                return False
            # The last good export stays; the workflow is retried on the next sync
            # because its stored fingerprint still differs from the listing.
            result.errors += 1
            if isinstance(error, ZuoraMalformedResponseError):
                result.malformed_exports += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(str(error))
            return True
        export = outcome.export
        assert export is not None
        threads.stage(
            raw.RawExport(
                zuora_id=outcome.workflow_id,
                content=export.content.decode("utf-8"),
                export_hash=export_hash(export.data),
                list_fingerprint=fingerprints[outcome.workflow_id],
                # Distinct ids: the tasks table keeps one row per task id.
                task_count=len(set(export.task_ids)),
            )
        )
        result.exports_downloaded += 1
        if refetch:
            result.exports_refetched += 1
        if outcome.workflow_id in known:
            result.exports_updated += 1
        else:
            result.exports_created += 1
        return True

    def export_pass(ids: Iterable[int], *, last_try: bool, refetch: bool) -> list[int]:
        return [
            outcome.workflow_id
            for outcome in client.export_workflows(ids)
            if not take(outcome, last_try=last_try, refetch=refetch)
        ]

    with FetchThreads(
        client, expected_workflows=stored_items if stored_pages else None, write=write, batch_size=batch_size
    ) as threads:
        again = export_pass(changed_ids(), last_try=False, refetch=False)
        for round_number in range(1, REFETCH_ROUNDS + 1):
            if not again:
                break
            time.sleep(REFETCH_PAUSE_S * round_number)
            again = export_pass(again, last_try=round_number == REFETCH_ROUNDS, refetch=True)
        threads.finish_staging()

    result.page_numbers = [page.page_number for page in pages]
    result.distinct_ids = len(listed_ids)
    vanished = sorted(set(live_before) - listed_ids)
    result.vanished_confirmed = _confirm_vanished(customer, client, vanished)
    result.api = client.metrics.as_dict()

    with write_transaction(engine) as conn:
        raw.clear_pages(conn, customer.id)
        raw.insert_pages(conn, customer.id, pages, run_id=run_id, at=now)
        raw.promote_staged(conn, customer.id, run_id=run_id)
        result.pages = len(pages)
        result.duration_s = time.monotonic() - started
        if on_commit is not None:
            on_commit(conn, result)
    return result


def _confirm_vanished(customer: Customer, client: ZuoraClient, vanished: list[int]) -> int:
    """Raise ZuoraListingChangedError if a stored workflow missing from the listing still exists.

    Every one is checked (with the client's bounded concurrency): a deletion the listing cannot
    prove is not made."""

    def exists(zuora_id: int) -> bool:
        try:
            client.get_workflow(zuora_id)
        except ZuoraNotFoundError:
            return False
        return True

    if not vanished:
        return 0
    with ThreadPoolExecutor(max_workers=client.settings.concurrency) as pool:
        for zuora_id, still_there in zip(vanished, pool.map(exists, vanished), strict=True):
            if still_there:
                raise ZuoraListingChangedError(
                    f"customer {customer.name!r}: workflow {zuora_id} exists but was missing from "
                    "the listing (workflows changed while the pages were walked); the listing is "
                    "not trusted and nothing was deleted. The step retry lists again.",
                    customer=customer.name,
                    endpoint="GET /workflows",
                )
    return len(vanished)
