"""The definitions graph, pinned: an accidental change to a key, check, job or schedule shows here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from zuora_pipeline.definitions import defs

REPO = Path(__file__).resolve().parents[2]


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_definitions_graph_is_pinned():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == [
        "zuora/workflow_exports",
        "zuora/workflow_pages",
        "zuora/workflow_tasks",
        "zuora/workflows",
    ]
    assert sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys) == [
        "zuora/workflow_exports:export_coverage",
        "zuora/workflow_exports:exports_parse",
        "zuora/workflow_pages:pagination_complete",
        "zuora/workflow_tasks:no_orphan_tasks",
        "zuora/workflow_tasks:task_counts_match_exports",
        "zuora/workflows:customers_fresh",
        "zuora/workflows:matches_listing",
        "zuora/workflows:no_duplicate_workflows",
        "zuora/workflows:required_fields_present",
        "zuora/workflows:shrink_guard",
    ]
    for key in graph.get_all_asset_keys():
        partitions = graph.get(key).partitions_def
        assert isinstance(partitions, dg.DynamicPartitionsDefinition) and partitions.name == "customers"
    assert {j.name for j in repo.get_all_jobs()} >= {"sync_customer_workflows", "reextract_tasks"}
    assert [s.name for s in repo.schedule_defs] == ["hourly_workflow_sync"]
    assert repo.get_schedule_def("hourly_workflow_sync").cron_schedule == "0 * * * *"
    assert "customer_partitions_sensor" in {s.name for s in repo.sensor_defs}


def test_api_facing_step_has_a_retry_policy_and_a_pool():
    fetch = defs.resolve_assets_def(dg.AssetKey(["zuora", "workflow_pages"]))
    node = fetch.node_def
    assert node.retry_policy is not None and node.retry_policy.max_retries == 3
    assert node.pool == "zuora_api"


def test_dagster_cli_validates_the_workspace(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "zuora_pipeline" in result.stdout + result.stderr
