"""Every asset and asset check the pipeline declares, for one set of ``PipelineOptions``.

The sync's four assets and nine per-customer checks (``sync/quality.py``), the fleet asset that the
fleet-wide checks target, and the analyst views as external assets with their lineage.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import dagster as dg

from zuora_pipeline.defs import catalog
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.sync import quality
from zuora_pipeline.sync.results import WORKFLOW_EXPORTS, WORKFLOW_PAGES, WORKFLOW_TASKS, WORKFLOWS
from zuora_pipeline.warehouse.views import ANALYST_VIEWS

_DESCRIPTIONS = {
    WORKFLOW_PAGES: "Every page of GET /workflows for the customer, stored raw (raw_workflow_pages). "
    "Fails unless pagination ran to the end.",
    WORKFLOW_EXPORTS: "The last good GET /workflows/{id}/export of each listed workflow (raw_workflow_exports); "
    "only changed workflows are downloaded again.",
    WORKFLOWS: "One row per Zuora workflow of the customer (table workflows); vanished ones are soft-deleted "
    "after a complete listing and restored when they reappear. Every distinct state is kept in "
    "workflow_revisions, every change in workflow_changes.",
    WORKFLOW_TASKS: "The tasks inside each workflow's export (table tasks); tasks that left their workflow's "
    "export are removed. Reads only the warehouse.",
}
_VIEW_DESCRIPTIONS = {
    "analyst_workflows": "One row per workflow, live and soft-deleted, with customer names and task counts.",
    "analyst_tasks": "One row per task of a workflow, with its parameters as JSON.",
    "analyst_workflow_revisions": "One row per distinct state of a workflow, with its export.",
    "analyst_workflow_changes": "One row per change a sync saw: created, updated, deleted, restored.",
}
_UPSTREAM = {
    WORKFLOW_EXPORTS: [WORKFLOW_PAGES],
    WORKFLOWS: [WORKFLOW_PAGES, WORKFLOW_EXPORTS],
    WORKFLOW_TASKS: [WORKFLOWS],
}


@dataclass(frozen=True)
class Specs:
    partitions: dg.DynamicPartitionsDefinition
    sync_assets: list[dg.AssetSpec]
    sync_checks: list[dg.AssetCheckSpec]
    fleet: dg.AssetSpec
    views: list[dg.AssetSpec]


def _tags(options: PipelineOptions) -> dict[str, str]:
    return {"domain": "billing", **options.tags}


def customer_check(
    name: str, *, asset: dg.AssetKey, partitions: dg.PartitionsDefinition, **kwargs: object
) -> dg.AssetCheckSpec:
    """An asset check evaluated and stored per customer partition.

    Without a ``partitions_def`` every evaluation is stored with no partition, so the Checks tab
    would show only whichever customer ran last and a healthy customer's run would hide a broken
    one. Partitioned checks are a preview feature in Dagster 1.13 and warn (``PreviewWarning``) on
    every load of the definitions: this is the one place that silences it, because we rely on it
    on purpose and ``zuora_pipeline_tests/defs/test_checks.py`` pins the behaviour we use (each
    partition keeps its own latest result, in the storage the UI's per-partition status reads).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset, partitions_def=partitions, **kwargs)  # type: ignore[arg-type]


def build_specs(options: PipelineOptions) -> Specs:
    partitions = dg.DynamicPartitionsDefinition(name=options.partitions_name)
    kind = options.warehouse_kind
    sync_assets = [
        dg.AssetSpec(
            options.key(name),
            deps=[options.key(up) for up in _UPSTREAM.get(name, [])],
            partitions_def=partitions,
            # A paused customer, or a stage a failed blocking check stops, materializes nothing.
            skippable=True,
            group_name=options.group,
            kinds={"zuora", kind} if name in (WORKFLOW_PAGES, WORKFLOW_EXPORTS) else {kind},
            description=_DESCRIPTIONS[name],
            owners=list(options.owners),
            tags=_tags(options),
            metadata=catalog.asset_metadata(name),
            # The fleet-wide badge: the mirror as a whole is stale when no customer's workflows
            # were refreshed within the window; customers_fresh names each stale customer.
            freshness_policy=dg.FreshnessPolicy.time_window(fail_window=options.stale_after)
            if name == WORKFLOWS
            else None,
        )
        for name in _DESCRIPTIONS
    ]
    sync_checks = [
        customer_check(
            check.name,
            asset=options.key(check.asset),
            partitions=partitions,
            blocking=check.blocking,
            description=check.description,
        )
        for check in quality.CHECKS
    ]
    fleet = dg.AssetSpec(
        options.fleet_key,
        deps=[options.key(WORKFLOWS), options.key(WORKFLOW_TASKS)],
        group_name=options.group,
        kinds={kind},
        owners=list(options.owners),
        tags=_tags(options),
        description="Every customer's mirror in the warehouse (tables customers, workflows, tasks). Not "
        "materialized: its checks (freshness of each customer, orphan tasks) run every 15 minutes in the "
        "fleet_quality_checks job. It is unpartitioned so that a customer's Materialize never runs them.",
    )
    views = [
        dg.AssetSpec(
            options.key(view),
            deps=[options.key(asset) for asset in catalog.view_assets(view)],
            group_name=options.group,
            kinds={kind, "view"},
            owners=list(options.owners),
            tags=_tags(options),
            description=f"{_VIEW_DESCRIPTIONS[view]} A view: always as current as the tables it reads.",
            metadata=catalog.table_metadata(view, catalog.view_schema(view)),
        )
        for view in ANALYST_VIEWS
    ]
    return Specs(partitions, sync_assets, sync_checks, fleet, views)
