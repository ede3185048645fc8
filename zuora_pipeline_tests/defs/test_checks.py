"""Asset checks per customer, and the fleet-wide checks in their own unpartitioned job.

Pins what we rely on from Dagster 1.13's (preview) partitioned checks: each evaluation is stored
with its customer's partition, and the per-partition state the UI's Checks tab reads
(``AssetCheck.partitionStatuses``, built from ``get_asset_check_state``) keeps each customer's own
latest result, so one healthy customer's run does not hide another's failure.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from zuora_pipeline.definitions import defs
from zuora_pipeline.defs.jobs import FLEET_CHECKS_JOB_NAME
from zuora_pipeline.defs.resources import environment_run_config
from zuora_pipeline.warehouse import sync_runs
from zuora_pipeline.warehouse.schema import customers, tasks, workflows
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.fixtures.dagster_internals import AssetCheckExecutionResolvedStatus, PartitionKeyFilter
from zuora_pipeline_tests.fixtures.keys import FLEET, WORKFLOW_TASKS, customers_partitions

TASK_COUNTS = dg.AssetCheckKey(WORKFLOW_TASKS, "task_counts_match_exports")
FRESH = dg.AssetCheckKey(FLEET, "customers_fresh")
ORPHANS = dg.AssetCheckKey(FLEET, "no_orphan_tasks")


def _drop_one_task(pipeline, name: str) -> None:
    customer_id = pipeline.customer(name).id
    with write_transaction(pipeline.engine) as conn:
        task_id = conn.execute(
            sa.select(tasks.c.id)
            .join(workflows, workflows.c.id == tasks.c.workflow_id)
            .where(workflows.c.customer_id == customer_id)
            .limit(1)
        ).scalar_one()
        conn.execute(sa.delete(tasks).where(tasks.c.id == task_id))


def _history(instance: dg.DagsterInstance, key: dg.AssetCheckKey, partition: str | None = None) -> list:
    # Semi-internal storage API, used in tests only.
    return list(
        instance.event_log_storage.get_asset_check_execution_history(
            key, limit=20, partition_filter=None if partition is None else PartitionKeyFilter(key=partition)
        )
    )


def _partition_state(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> dict[str, set[str]]:
    """What the UI's per-partition check status is built from."""
    with dg.partition_loading_context(dynamic_partitions_store=instance):
        state = instance.event_log_storage.get_asset_check_state([(key, customers_partitions)])[key]
        return {
            status.value: set(subset.subset_value.get_partition_keys())
            for status, subset in state.subsets.items()
            if status != AssetCheckExecutionResolvedStatus.IN_PROGRESS
        }


def test_each_customer_keeps_its_own_check_result(pipeline, sim_tenant):
    broken, healthy = sim_tenant(workflows=8, tasks=3), sim_tenant(workflows=8, tasks=3)
    broken_name, healthy_name = pipeline.add_customer(broken), pipeline.add_customer(healthy)
    assert pipeline.sync(broken_name).success
    # A task lost behind the pipeline's back: an unchanged re-sync does not re-extract it.
    _drop_one_task(pipeline, broken_name)
    assert pipeline.sync(broken_name).success  # non-blocking check: recorded as failed
    assert pipeline.sync(healthy_name).success

    latest_broken = _history(pipeline.instance, TASK_COUNTS, broken_name)[0]
    latest_healthy = _history(pipeline.instance, TASK_COUNTS, healthy_name)[0]
    assert latest_broken.partition == broken_name and latest_broken.status.value == "FAILED"
    assert latest_healthy.partition == healthy_name and latest_healthy.status.value == "SUCCEEDED"
    # Every evaluation carries its customer: none is stored at asset level.
    assert all(r.partition in (broken_name, healthy_name) for r in _history(pipeline.instance, TASK_COUNTS))

    state = _partition_state(pipeline.instance, TASK_COUNTS)
    assert state["FAILED"] == {broken_name}, "the healthy customer's run hid the broken one"
    assert state["SUCCEEDED"] == {healthy_name}


def test_a_sync_does_not_run_the_fleet_checks(pipeline, sim_tenant):
    name = pipeline.add_customer(sim_tenant(workflows=3, tasks=1))
    assert pipeline.sync(name).success
    assert _history(pipeline.instance, FRESH) == [] and _history(pipeline.instance, ORPHANS) == []


def _set_last_sync(pipeline, name: str, at: datetime | None) -> None:
    with write_transaction(pipeline.engine) as conn:
        conn.execute(sa.update(customers).where(customers.c.name == name).values(last_synced_at=at))


def _run_fleet_checks(pipeline) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(FLEET_CHECKS_JOB_NAME).execute_in_process(
        instance=pipeline.instance, run_config={"resources": environment_run_config()}
    )


def test_fleet_job_runs_unpartitioned_and_names_each_stale_customer(pipeline, sim_tenant):
    fresh, stale, never, paused = (pipeline.add_customer(sim_tenant(workflows=3, tasks=1)) for _ in range(4))
    for name in (fresh, stale, paused):
        assert pipeline.sync(name).success
    _set_last_sync(pipeline, stale, datetime.now(UTC) - timedelta(hours=3))
    _set_last_sync(pipeline, paused, datetime.now(UTC) - timedelta(days=3))
    with write_transaction(pipeline.engine) as conn:
        sync_runs.pause(conn, paused)

    result = _run_fleet_checks(pipeline)

    assert result.success  # freshness fails as a warning
    assert result.dagster_run.tags.get("dagster/partition") is None
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"customers_fresh", "no_orphan_tasks"}
    assert all(e.partition is None for e in evaluations.values())
    fresh_check = evaluations["customers_fresh"]
    assert not fresh_check.passed and fresh_check.severity == dg.AssetCheckSeverity.WARN
    meta = fresh_check.metadata
    assert meta["stale_customers"].value == 2 and meta["active_customers"].value == 3
    assert meta["paused_customers"].value == 1
    table = meta["stale"].value
    assert f"| {never} | never | never synced |" in table
    assert f"| {stale} |" in table and "3 h 0 min" in table
    assert fresh not in table and paused not in table
    assert f"| {paused} | paused by an operator |" in meta["paused"].value
    assert stale in fresh_check.description and never in fresh_check.description
    assert evaluations["no_orphan_tasks"].passed


@pytest.mark.parametrize("harness", ["pipeline", "sqlite_pipeline"])
def test_fleet_freshness_passes_when_every_active_customer_is_fresh(harness, sim_tenant, request):
    pipeline = request.getfixturevalue(harness)  # SQLite hands timestamps back without a zone
    name = pipeline.add_customer(sim_tenant(workflows=3, tasks=1))
    assert pipeline.sync(name).success
    evaluation = next(
        e for e in _run_fleet_checks(pipeline).get_asset_check_evaluations() if e.check_name == FRESH.name
    )
    assert evaluation.passed and evaluation.metadata["stale_customers"].value == 0


def test_fleet_schedule_targets_the_fleet_job_every_15_minutes():
    schedule = defs.get_repository_def().get_schedule_def("fleet_quality_schedule")
    assert schedule.job_name == FLEET_CHECKS_JOB_NAME
    assert schedule.cron_schedule == "*/15 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
