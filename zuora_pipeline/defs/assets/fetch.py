"""The fetch stage of a customer's sync: ``zuora/workflow_pages`` and ``zuora/workflow_exports``
together, so exports overlap the walk, with their checks.

A paused customer stays a partition, so a backfill over all customers or the Materialize button
can reach it. Its sync then makes no Zuora call (not even for a token) and materializes nothing,
and records a WARN ``customer_active`` result on that customer's partition saying why and how to
resume.
"""

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.defs.failures import customer_step
from zuora_pipeline.defs.keys import GROUP, WORKFLOW_EXPORTS, WORKFLOW_PAGES
from zuora_pipeline.defs.partitions import customer_check, customers_partitions
from zuora_pipeline.defs.resources import ZuoraResource
from zuora_pipeline.sync.fetch import FetchResult, fetch_workflow_definitions
from zuora_pipeline.warehouse import sync_runs
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.transactions import write_transaction

MIN_EXPORT_COVERAGE = 0.995


def _calls(api: dict[str, float], *kinds: str) -> int:
    return int(sum(api.get(f"requests_{kind}", 0) for kind in kinds))


def _pages_metadata(result: FetchResult) -> dict[str, float]:
    # The listing is replaced as a whole on every sync: its pages are "updated".
    return {
        "created": 0,
        "updated": result.pages,
        "unchanged": 0,
        "deleted": 0,
        "total": result.listed,
        "errors": 0,
        "pages": result.pages,
        # The token is fetched for the listing: it is the first thing the step does.
        "api_calls": _calls(result.api, "list", "token"),
        "retries": int(result.api.get("retries_total", 0)),
        "duration_s": round(result.duration_s, 3),
        "dagster/partition_row_count": result.listed,
    }


def _exports_metadata(result: FetchResult) -> dict[str, float]:
    return {
        "created": result.exports_created,
        "updated": result.exports_updated,
        "unchanged": result.unchanged_skipped,
        "deleted": 0,  # the last good export of a vanished workflow is kept
        "total": result.exportable,
        "errors": result.errors,
        "exports_requested": result.exports_requested,
        # Failed transiently, then downloaded on a further pass of the same sync.
        "exports_refetched": result.exports_refetched,
        "without_active_version": result.without_active_version,
        "coverage": round(result.coverage, 6),
        "api_calls": _calls(result.api, "export", "get"),
        "retries": int(result.api.get("retries_total", 0)),
        "bytes_received": int(result.api.get("bytes_received", 0)),
        "max_in_flight": int(result.api.get("max_in_flight", 0)),
        "duration_s": round(result.duration_s, 3),
    }


def active_result(customer: Customer) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=WORKFLOW_PAGES, check_name="customer_active", passed=True, metadata={"customer": customer.name}
    )


def paused_result(customer: Customer) -> dg.AssetCheckResult:
    reason = customer.paused_reason or sync_runs.OPERATOR_PAUSE_REASON
    return dg.AssetCheckResult(
        asset_key=WORKFLOW_PAGES,
        check_name="customer_active",
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"paused: {reason}; run `zuora-pipeline customers resume {customer.name}`",
        metadata={
            "customer": customer.name,
            "paused_reason": reason,
            "last_successful_sync": customer.last_synced_at.isoformat() if customer.last_synced_at else "never",
        },
    )


SPECS = [
    dg.AssetSpec(
        WORKFLOW_PAGES,
        partitions_def=customers_partitions,
        skippable=True,
        group_name=GROUP,
        kinds={"zuora", "sql"},
        description="Every page of GET /workflows for the customer, stored raw "
        "(raw_workflow_pages). Fails unless pagination ran to the end.",
    ),
    dg.AssetSpec(
        WORKFLOW_EXPORTS,
        deps=[WORKFLOW_PAGES],
        partitions_def=customers_partitions,
        skippable=True,
        group_name=GROUP,
        kinds={"zuora", "sql"},
        description="The last good GET /workflows/{id}/export of each listed workflow "
        "(raw_workflow_exports); only changed workflows are downloaded again.",
    ),
]

CHECK_SPECS = [
    customer_check(
        "customer_active",
        asset=WORKFLOW_PAGES,
        description="The customer is active; a paused one is not synced (no Zuora call) "
        "until `zuora-pipeline customers resume NAME`.",
    ),
    customer_check(
        "pagination_complete",
        asset=WORKFLOW_PAGES,
        blocking=True,
        description="The walk followed next_page to the end with no loop and no duplicate id.",
    ),
    customer_check(
        "export_coverage",
        asset=WORKFLOW_EXPORTS,
        description=f"At least {MIN_EXPORT_COVERAGE:.1%} of listed workflows with an active "
        "version have a current export.",
    ),
    customer_check(
        "exports_parse",
        asset=WORKFLOW_EXPORTS,
        description="Every export this sync needed parsed as JSON of the export shape, after "
        "the in-run re-fetches of malformed bodies (those still malformed keep their last good export).",
    ),
]


def fetch_stage(
    engine: sa.Engine,
    zuora: ZuoraResource,
    customer: Customer,
    *,
    run_id: str,
    full_refresh: bool,
    whole_sync: bool,
) -> tuple[list[dg.MaterializeResult | dg.AssetCheckResult], str]:
    """List and export the customer's workflows: the results to record, and a log line.

    Materializations come first: a check result targets its asset's latest materialization, and
    the UI counts a partition's check only if it evaluated that materialization.
    """
    if whole_sync:
        with write_transaction(engine) as conn:
            sync_runs.started(conn, customer.id, run_id, full_refresh=full_refresh)
    with customer_step(engine, customer, run_id):
        with zuora.client_for(customer) as client:
            result = fetch_workflow_definitions(engine, customer, client, run_id=run_id, full_refresh=full_refresh)
    line = (
        f"{customer.name}: {result.listed} workflows on {result.pages} pages; "
        f"{result.exports_downloaded} exports downloaded, {result.unchanged_skipped} unchanged, "
        f"{result.errors} failed"
    )
    results: list[dg.MaterializeResult | dg.AssetCheckResult] = [
        dg.MaterializeResult(asset_key=WORKFLOW_PAGES, metadata={"customer": customer.name, **_pages_metadata(result)}),
        dg.MaterializeResult(
            asset_key=WORKFLOW_EXPORTS,
            metadata={
                "customer": customer.name,
                **_exports_metadata(result),
                "error_samples": dg.MetadataValue.json(result.error_samples),
            },
        ),
        dg.AssetCheckResult(
            asset_key=WORKFLOW_PAGES,
            check_name="pagination_complete",
            passed=result.pagination_complete,
            metadata={
                "customer": customer.name,
                "pages": result.pages,
                "listed": result.listed,
                "distinct_ids": result.distinct_ids,
            },
        ),
        dg.AssetCheckResult(
            asset_key=WORKFLOW_EXPORTS,
            check_name="export_coverage",
            passed=result.coverage >= MIN_EXPORT_COVERAGE,
            metadata={
                "customer": customer.name,
                "coverage": round(result.coverage, 6),
                "failed_exports": result.errors,
            },
        ),
        dg.AssetCheckResult(
            asset_key=WORKFLOW_EXPORTS,
            check_name="exports_parse",
            passed=result.malformed_exports == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"customer": customer.name, "malformed_exports": result.malformed_exports},
        ),
        active_result(customer),
    ]
    return results, line
