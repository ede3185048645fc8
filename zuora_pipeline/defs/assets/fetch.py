"""``zuora/workflow_pages`` and ``zuora/workflow_exports``: one step, so exports overlap the walk."""

from collections.abc import Iterator

import dagster as dg

from zuora_pipeline.defs.failures import customer_step, load_customer
from zuora_pipeline.defs.keys import API_POOL, GROUP, WORKFLOW_EXPORTS, WORKFLOW_PAGES
from zuora_pipeline.defs.partitions import customers_partitions
from zuora_pipeline.defs.policies import API_RETRY_POLICY
from zuora_pipeline.defs.resources import WarehouseResource, ZuoraResource
from zuora_pipeline.steps.fetch import FetchResult, fetch_workflow_definitions

MIN_EXPORT_COVERAGE = 0.995


class FetchConfig(dg.Config):
    full_refresh: bool = False
    """Re-export every workflow, not only those whose list entry changed."""


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


@dg.multi_asset(
    name="fetch_workflow_definitions",
    specs=[
        dg.AssetSpec(
            WORKFLOW_PAGES,
            partitions_def=customers_partitions,
            group_name=GROUP,
            kinds={"zuora", "sql"},
            description="Every page of GET /workflows for the customer, stored raw "
            "(raw_workflow_pages). Fails unless pagination ran to the end.",
        ),
        dg.AssetSpec(
            WORKFLOW_EXPORTS,
            deps=[WORKFLOW_PAGES],
            partitions_def=customers_partitions,
            group_name=GROUP,
            kinds={"zuora", "sql"},
            description="The last good GET /workflows/{id}/export of each listed workflow "
            "(raw_workflow_exports); only changed workflows are downloaded again.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "pagination_complete",
            asset=WORKFLOW_PAGES,
            blocking=True,
            description="The walk followed next_page to the end with no loop and no duplicate id.",
        ),
        dg.AssetCheckSpec(
            "export_coverage",
            asset=WORKFLOW_EXPORTS,
            description=f"At least {MIN_EXPORT_COVERAGE:.1%} of listed workflows with an active "
            "version have a current export.",
        ),
        dg.AssetCheckSpec(
            "exports_parse",
            asset=WORKFLOW_EXPORTS,
            description="Every export received in this sync was valid JSON of the export shape.",
        ),
    ],
    pool=API_POOL,
    retry_policy=API_RETRY_POLICY,
)
def fetch_workflow_definitions_asset(
    context: dg.AssetExecutionContext,
    config: FetchConfig,
    warehouse: WarehouseResource,
    zuora: ZuoraResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    engine = warehouse.engine()
    customer = load_customer(engine, context.partition_key)
    run_id = context.run.run_id
    with customer_step(engine, customer, run_id):
        with zuora.client_for(customer) as client:
            result = fetch_workflow_definitions(
                engine, customer, client, run_id=run_id, full_refresh=config.full_refresh
            )
    context.log.info(
        f"{customer.name}: {result.listed} workflows on {result.pages} pages; "
        f"{result.exports_downloaded} exports downloaded, {result.unchanged_skipped} unchanged, "
        f"{result.errors} failed"
    )
    yield dg.MaterializeResult(
        asset_key=WORKFLOW_PAGES, metadata={"customer": customer.name, **_pages_metadata(result)}
    )
    yield dg.MaterializeResult(
        asset_key=WORKFLOW_EXPORTS,
        metadata={
            "customer": customer.name,
            **_exports_metadata(result),
            "error_samples": dg.MetadataValue.json(result.error_samples),
        },
    )
    yield dg.AssetCheckResult(
        asset_key=WORKFLOW_PAGES,
        check_name="pagination_complete",
        passed=result.pagination_complete,
        metadata={
            "customer": customer.name,
            "pages": result.pages,
            "listed": result.listed,
            "distinct_ids": result.distinct_ids,
        },
    )
    yield dg.AssetCheckResult(
        asset_key=WORKFLOW_EXPORTS,
        check_name="export_coverage",
        passed=result.coverage >= MIN_EXPORT_COVERAGE,
        metadata={
            "customer": customer.name,
            "coverage": round(result.coverage, 6),
            "failed_exports": result.errors,
        },
    )
    yield dg.AssetCheckResult(
        asset_key=WORKFLOW_EXPORTS,
        check_name="exports_parse",
        passed=result.malformed_exports == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"customer": customer.name, "malformed_exports": result.malformed_exports},
    )
