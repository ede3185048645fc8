"""Runs of several customers (the hourly schedule's and backfills' runs): each customer keeps its
own materializations, check results, failure and alert; a retry re-syncs only what failed."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline import config
from zuora_pipeline.defs.keys import SYNC_OP
from zuora_pipeline.defs.notifications import ALERT_SENT_TAG, AlertChannels
from zuora_pipeline.runs.inprocess import run_sync_range
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.defs.reliability.support import capture_clients, receiver, step_retries
from zuora_pipeline_tests.defs.test_checks import TASK_COUNTS, _partition_state
from zuora_pipeline_tests.fixtures.keys import SYNC_ASSETS, WORKFLOW_PAGES, customers_partitions

CHECKS_PER_CUSTOMER = 9


def _events(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> list[dg.DagsterEvent]:
    return [
        record.event_log_entry.dagster_event
        for record in instance.get_records_for_run(run_id, of_type=kind).records
        if record.event_log_entry.dagster_event is not None
    ]


def _materialized(instance: dg.DagsterInstance, run_id: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for event in _events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION):
        found.setdefault(event.partition or "", set()).add(event.asset_key.to_user_string())
    return found


def _checks(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict[str, bool]]:
    found: dict[str, dict[str, bool]] = {}
    for event in _events(instance, run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = event.event_specific_data
        found.setdefault(evaluation.partition, {})[evaluation.check_name] = evaluation.passed
    return found


def _break_secret(pipeline: Any, name: str) -> None:
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, name, client_secret_encrypted=config.secret_box().encrypt("wrong-secret"))


def test_a_run_of_several_customers_records_each_one_and_alerts_for_the_failed_one_alone(pipeline, sim_tenant):
    tenants = [sim_tenant(workflows=8, tasks=3) for _ in range(4)]
    names = [pipeline.add_customer(t) for t in tenants]
    broken = names[2]
    _break_secret(pipeline, broken)

    with receiver() as hook:
        outcomes = run_sync_range(
            pipeline.instance, pipeline.engine, names, alerts=AlertChannels(webhook_url=f"{hook.base_url}/hook")
        )
        alerts = [json.loads(r.body) for r in hook.requests]

    by_name = {o.customer: o for o in outcomes}
    assert [n for n in names if by_name[n].success] == [n for n in names if n != broken]
    assert not by_name[broken].success and "wrong-secret" not in (by_name[broken].error or "")
    run_id = outcomes[0].run_id
    run = pipeline.instance.get_run_by_id(run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
    assert "dagster/partition" not in run.tags, "a run of several customers covers a range"

    # Dagster's own records: each healthy customer has its four assets, the broken one failed.
    materialized = _materialized(pipeline.instance, run_id)
    every_asset = {key.to_user_string() for key in SYNC_ASSETS}
    assert materialized == {n: every_asset for n in names if n != broken}
    # The per-partition status the UI shows: the broken customer failed, the others materialized.
    for key in SYNC_ASSETS:
        status = pipeline.instance.get_status_by_partition(key, names, customers_partitions)
        assert status == {
            n: dg.AssetPartitionStatus.FAILED if n == broken else dg.AssetPartitionStatus.MATERIALIZED for n in names
        }, key
    # Every check of each healthy customer, on its own partition; the broken one none but its own.
    checks = _checks(pipeline.instance, run_id)
    for name in names:
        if name != broken:
            assert len(checks[name]) == CHECKS_PER_CUSTOMER and all(checks[name].values()), (name, checks[name])
    assert broken not in checks
    # Where the operator looks first: the failed partition's own events say why, on each asset.
    observed = _events(pipeline.instance, run_id, dg.DagsterEventType.ASSET_OBSERVATION)
    assert {e.partition for e in observed} == {broken}
    assert {e.asset_key for e in observed} == set(SYNC_ASSETS)
    reasons = {e.event_specific_data.asset_observation.description for e in observed}
    assert len(reasons) == 1 and "credentials" in reasons.pop()
    # The per-partition check status the UI reads: each customer's latest result is its own.
    healthy = names[0]
    for key in (dg.AssetCheckKey(WORKFLOW_PAGES, "pagination_complete"), TASK_COUNTS):
        state = {status: keys for status, keys in _partition_state(pipeline.instance, key).items() if keys}
        assert state == {"SUCCEEDED": set(names) - {broken}, "EXECUTION_FAILED": {broken}}, key

    # One alert, for the broken customer alone, with its own error.
    assert [a["customer"] for a in alerts] == [broken]
    assert "refused" in alerts[0]["error"].lower() or "credential" in alerts[0]["error"].lower(), alerts[0]
    assert pipeline.instance.get_run_by_id(run_id).tags.get(ALERT_SENT_TAG) == "webhook"

    # The warehouse agrees: three successful syncs, the broken customer failed and paused.
    for name, tenant in zip(names, tenants, strict=True):
        if name != broken:
            pipeline.assert_matches_truth(name, tenant.name)
    assert pipeline.customer(broken).sync_status == customers.PAUSED
    assert pipeline.customer(healthy).last_sync_status == sync_runs.SUCCESS


def test_a_paused_customer_in_a_range_is_untouched(pipeline, sim_tenant):
    tenants = [sim_tenant(workflows=5, tasks=2) for _ in range(3)]
    names = [pipeline.add_customer(t) for t in tenants]
    with write_transaction(pipeline.engine) as conn:
        sync_runs.pause(conn, names[1])
    admin = pipeline.simulator.admin
    admin.reset_stats()

    outcomes = run_sync_range(pipeline.instance, pipeline.engine, names)

    run_id = outcomes[0].run_id
    assert pipeline.instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
    assert set(_materialized(pipeline.instance, run_id)) == {names[0], names[2]}
    assert _checks(pipeline.instance, run_id)[names[1]] == {"customer_active": False}
    assert admin.stats()["tokens_issued"].get(tenants[1].name, 0) == 0
    assert admin.stats()["tokens_issued"].get(tenants[0].name, 0) == 1
    with pipeline.engine.connect() as conn:
        assert sync_runs.latest(conn, pipeline.customer(names[1]).id) is None


def test_a_step_retry_re_syncs_only_the_customer_that_failed(pipeline, sim_tenant, sim_admin_reset, monkeypatch):
    tenants = [sim_tenant(workflows=6, tasks=2) for _ in range(3)]
    names = [pipeline.add_customer(t) for t in tenants]
    flaky = tenants[1]
    # Two 503s on its first page outlast the client's two tries: that customer fails once.
    sim_admin_reset.add_fault_rules([{"endpoint": "list", "fault": "503", "times": 2, "page": 1, "tenant": flaky.name}])

    with capture_clients(monkeypatch) as clients:
        outcomes = run_sync_range(
            pipeline.instance, pipeline.engine, names, resources_config={"zuora": {"max_attempts": 2}}
        )

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    run_id = outcomes[0].run_id
    assert step_retries(pipeline.instance, run_id) == [SYNC_OP]
    # One client per attempt that synced the customer: the healthy ones were not synced again.
    assert Counter(c.customer for c in clients) == {names[0]: 1, names[1]: 2, names[2]: 1}
    # Each customer materialized once; the run's result is each one's latest.
    mats = _events(pipeline.instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)
    assert sorted(e.partition for e in mats if e.asset_key == WORKFLOW_PAGES) == sorted(names)
    for name, tenant in zip(names, tenants, strict=True):
        pipeline.assert_matches_truth(name, tenant.name)


def test_a_deterministic_failure_is_not_retried_with_the_transient_ones(
    pipeline, sim_tenant, sim_admin_reset, monkeypatch
):
    tenants = [sim_tenant(workflows=5, tasks=2) for _ in range(3)]
    names = [pipeline.add_customer(t) for t in tenants]
    _break_secret(pipeline, names[0])
    sim_admin_reset.add_fault_rules(
        [{"endpoint": "list", "fault": "503", "times": 2, "page": 1, "tenant": tenants[1].name}]
    )

    with capture_clients(monkeypatch) as clients:
        outcomes = run_sync_range(
            pipeline.instance, pipeline.engine, names, resources_config={"zuora": {"max_attempts": 2}}
        )

    assert [o.success for o in outcomes] == [False, True, True]
    built = Counter(c.customer for c in clients)
    assert built[names[0]] == 1, "refused credentials must not be tried again by the step retry"
    assert built[names[1]] == 2 and built[names[2]] == 1
    with pipeline.engine.connect() as conn:
        record = sync_runs.for_run(conn, pipeline.customer(names[0]).id, outcomes[0].run_id)
    assert record is not None and record["status"] == sync_runs.FAILED and record["retryable"] is False


def test_the_customer_lock_is_held_for_the_whole_sync(pipeline, sim_tenant, monkeypatch):
    """Another run (another session) cannot take a customer while its sync writes tasks."""
    from zuora_pipeline.sync import customer as sync_module

    name = pipeline.add_customer(sim_tenant(workflows=4, tasks=2))
    customer_id = pipeline.customer(name).id
    seen: list[bool] = []
    real = sync_module.extract_tasks

    def watching(*args: Any, **kwargs: Any) -> Any:
        with pipeline.engine.connect() as other:
            taken = other.execute(sa.text("SELECT pg_try_advisory_lock(23050, :c)"), {"c": customer_id}).scalar()
            if taken:
                other.execute(sa.text("SELECT pg_advisory_unlock(23050, :c)"), {"c": customer_id})
            other.commit()
        seen.append(bool(taken))
        return real(*args, **kwargs)

    monkeypatch.setattr(sync_module, "extract_tasks", watching)
    assert pipeline.sync(name).success
    assert seen == [False], "the tasks stage ran without the customer's sync lock"
