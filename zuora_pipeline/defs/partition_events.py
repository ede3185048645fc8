"""A customer's materializations and check results inside a run of several customers.

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

import dagster as dg

from zuora_pipeline.defs.dagster_private import AssetCheckEvaluationTargetMaterializationData

Result = dg.MaterializeResult | dg.AssetCheckResult
Target = AssetCheckEvaluationTargetMaterializationData | None


def materialization(result: dg.MaterializeResult, partition: str) -> dg.AssetMaterialization:
    assert result.asset_key is not None, "stage results name their asset"
    return dg.AssetMaterialization(asset_key=result.asset_key, partition=partition, metadata=result.metadata)


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
    result: dg.AssetCheckResult,
    partition: str,
    *,
    blocking: bool,
    targets: dict[dg.AssetKey, Target] | None = None,
) -> dg.AssetCheckEvaluation:
    """The result as an evaluation of ``partition``, aimed at that partition's latest
    materialization (so build it after yielding the materialization it judges). ``targets``
    caches the lookups of one partition's results, one query per asset."""
    assert result.asset_key is not None and result.check_name is not None, "stage results name their check"
    targets = {} if targets is None else targets
    if result.asset_key not in targets:
        targets[result.asset_key] = _latest_materialization(instance, result.asset_key, partition)
    return dg.AssetCheckEvaluation(
        asset_key=result.asset_key,
        check_name=result.check_name,
        passed=result.passed,
        metadata=result.metadata,
        target_materialization_data=targets[result.asset_key],
        severity=result.severity,
        description=result.description,
        blocking=blocking,
        partition=partition,
    )
