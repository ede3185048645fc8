"""A customer's results as events of its own partition.

A run covering a range of partitions records a ``MaterializeResult`` or ``AssetCheckResult`` for
every partition of the range (or, for a check, for none), so a run of ten customers would mark a
failed customer materialized too. Each customer's results are therefore logged as events of its
own partition: ``AssetMaterialization(partition=...)`` and ``AssetCheckEvaluation(partition=...)``,
both public. A check evaluation counts in the UI's per-partition check status only when it names
the materialization it evaluated; Dagster fills that in itself only for a run of one partition,
and the record it uses (``AssetCheckEvaluationTargetMaterializationData``) is not exported: it
comes from ``defs/dagster_private.py``, and ``zuora_pipeline_tests/defs/test_partition_events.py``
pins its fields, so a Dagster upgrade that moves or changes it fails there first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from zuora_pipeline.defs.dagster_private import AssetCheckEvaluationTargetMaterializationData
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.sync.results import CheckOutcome, Markdown, Materialization, Url

Target = AssetCheckEvaluationTargetMaterializationData | None


def metadata_values(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The sync's plain metadata as Dagster shows it: Markdown, links, JSON; numbers as numbers."""

    def value(item: Any) -> Any:
        if isinstance(item, Markdown):
            return dg.MetadataValue.md(str(item))
        if isinstance(item, Url):
            return dg.MetadataValue.url(str(item))
        if isinstance(item, list | dict):
            return dg.MetadataValue.json(item)
        return item

    return {key: value(item) for key, item in metadata.items()}


def materialization(
    options: PipelineOptions, item: Materialization, partition: str, extra: Mapping[str, Any] | None = None
) -> dg.AssetMaterialization:
    return dg.AssetMaterialization(
        asset_key=options.key(item.asset),
        partition=partition,
        metadata=metadata_values({**item.metadata, **(extra or {})}),
    )


def _latest_materialization(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partition: str) -> Target:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1
    ).records
    if not records:
        return None
    latest = records[0]
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=latest.storage_id, run_id=latest.run_id, timestamp=latest.timestamp
    )


def check_evaluation(
    instance: dg.DagsterInstance,
    options: PipelineOptions,
    item: CheckOutcome,
    partition: str,
    *,
    blocking: bool,
    targets: dict[dg.AssetKey, Target] | None = None,
) -> dg.AssetCheckEvaluation:
    """The outcome as an evaluation of ``partition``, aimed at that partition's latest
    materialization (so build it after yielding the materialization it judges). ``targets``
    caches the lookups of one partition's results, one query per asset."""
    asset_key = options.key(item.asset)
    targets = {} if targets is None else targets
    if asset_key not in targets:
        targets[asset_key] = _latest_materialization(instance, asset_key, partition)
    return dg.AssetCheckEvaluation(
        asset_key=asset_key,
        check_name=item.name,
        passed=item.passed,
        metadata=metadata_values(item.metadata),
        target_materialization_data=targets[asset_key],
        severity=dg.AssetCheckSeverity.WARN if item.warn_only else dg.AssetCheckSeverity.ERROR,
        description=item.description,
        blocking=blocking,
        partition=partition,
    )
