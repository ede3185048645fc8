"""The definitions graph, pinned: an accidental change to a key, check, job or schedule shows here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from zuora_pipeline.definitions import defs
from zuora_pipeline_tests.fixtures.keys import SYNC_ASSETS, customers_partitions

REPO = Path(__file__).resolve().parents[2]


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_definitions_graph_is_pinned():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    assert sorted(k.to_user_string() for k in graph.get_all_asset_keys()) == [
        "zuora/analyst_tasks",
        "zuora/analyst_workflow_changes",
        "zuora/analyst_workflow_revisions",
        "zuora/analyst_workflows",
        "zuora/fleet",
        "zuora/workflow_exports",
        "zuora/workflow_pages",
        "zuora/workflow_tasks",
        "zuora/workflows",
    ]
    per_customer = [
        "zuora/workflow_exports:export_coverage",
        "zuora/workflow_exports:exports_parse",
        "zuora/workflow_pages:customer_active",
        "zuora/workflow_pages:pagination_complete",
        "zuora/workflow_tasks:task_counts_match_exports",
        "zuora/workflows:matches_listing",
        "zuora/workflows:no_duplicate_workflows",
        "zuora/workflows:required_fields_present",
        "zuora/workflows:shrink_guard",
    ]
    fleet = ["zuora/fleet:customers_fresh", "zuora/fleet:no_orphan_tasks"]
    checks = {f"{c.asset_key.to_user_string()}:{c.name}": c for c in graph.asset_check_keys}
    assert sorted(checks) == sorted(per_customer + fleet)
    for name in per_customer:  # evaluated and stored per customer partition
        assert graph.get(checks[name]).partitions_def == customers_partitions, name
    for name in fleet:  # one result for the whole fleet
        assert graph.get(checks[name]).partitions_def is None, name
    for key in graph.get_all_asset_keys():
        partitions = graph.get(key).partitions_def
        assert partitions == (customers_partitions if key in SYNC_ASSETS else None), key
    assert {j.name for j in repo.get_all_jobs()} >= {
        "sync_customer_workflows",
        "reextract_tasks",
        "fleet_quality_checks",
    }
    assert {s.name: s.cron_schedule for s in repo.schedule_defs} == {
        "hourly_workflow_sync": "0 * * * *",
        "fleet_quality_schedule": "*/15 * * * *",
    }
    assert all(s.default_status == dg.DefaultScheduleStatus.RUNNING for s in repo.schedule_defs)
    assert defs.resolve_job_def("fleet_quality_checks").partitions_def is None
    assert {s.name for s in repo.sensor_defs} == {
        "customer_partitions_sensor",
        "sync_requests_sensor",
        "abandoned_syncs_sensor",
        "sync_failure_alerts",
        "stale_customer_alerts",
    }


def test_loading_the_definitions_emits_no_preview_warning():
    # Partitioned checks are preview in Dagster 1.13: silenced once, in defs/specs.py.
    code = "import zuora_pipeline.definitions"
    result = subprocess.run(
        [sys.executable, "-W", "error::dagster.PreviewWarning", "-c", code],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


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
