"""The only place the project imports Dagster internals (``dagster._...``), for want of a public
API:

- ``AssetCheckEvaluationTargetMaterializationData`` (``defs/partition_events.py``): a check
  evaluation of one customer inside a run of several counts in the UI's per-partition check
  status only when it names the materialization it evaluated, and that record is not exported.

``zuora_pipeline_tests/defs/test_partition_events.py`` pins what is used of it, so a Dagster
upgrade that moves or changes it fails there, not in an operator's run.
"""

from __future__ import annotations

from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

__all__ = ["AssetCheckEvaluationTargetMaterializationData"]
