"""Pins the Dagster internals the tests use (``fixtures/dagster_internals.py``): an upgrade
that changes one fails here, by name."""

from __future__ import annotations

import inspect
from pathlib import Path

import dagster as dg

from zuora_pipeline_tests.fixtures.dagster_internals import (
    AssetCheckExecutionResolvedStatus,
    InstanceRef,
    PartitionKeyFilter,
    RepositorySnap,
)


def test_the_check_history_api_takes_a_partition_filter() -> None:
    key = dg.AssetCheckKey(dg.AssetKey("a"), "c")
    with dg.instance_for_test() as instance:
        history = instance.event_log_storage.get_asset_check_execution_history(
            key, limit=1, partition_filter=PartitionKeyFilter(key="p")
        )
    assert list(history) == []
    assert {"IN_PROGRESS", "SUCCEEDED", "FAILED", "EXECUTION_FAILED"} <= {
        s.name for s in AssetCheckExecutionResolvedStatus
    }


def test_a_repository_snapshot_is_built_from_a_repository_and_lists_resources() -> None:
    # Only the shape: building a repository here would depend on what earlier tests left in
    # Dagster's process-wide load context; test_resources.py builds one for real.
    assert list(inspect.signature(RepositorySnap.from_def).parameters)[:1] == ["repository_def"]
    assert "resources" in RepositorySnap.__annotations__


def test_an_instance_ref_is_built_from_a_directory(tmp_path: Path) -> None:
    ref = InstanceRef.from_dir(str(tmp_path), config_dir=str(tmp_path))
    with dg.DagsterInstance.from_ref(ref) as instance:
        assert instance.get_runs() == []
