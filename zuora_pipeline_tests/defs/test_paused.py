"""A paused customer stays a partition: its runs make no Zuora call, succeed, and say why in the UI."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.definitions import defs
from zuora_pipeline.defs.resources import environment_run_config
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.schema import sync_runs as sync_runs_table
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.fixtures.keys import SYNC_ASSETS, WORKFLOW_PAGES

ACTIVE_CHECK = dg.AssetCheckKey(WORKFLOW_PAGES, "customer_active")


def _pause(pipeline, name: str) -> None:
    with write_transaction(pipeline.engine) as conn:
        sync_runs.pause(conn, name)


def _records(pipeline, name: str) -> list[dict]:
    with pipeline.engine.connect() as conn:
        query = sa.select(sync_runs_table).where(sync_runs_table.c.customer_id == pipeline.customer(name).id)
        return [dict(r._mapping) for r in conn.execute(query)]


def _materialize_from_the_ui(pipeline, name: str) -> dg.ExecuteInProcessResult:
    """What the Materialize button launches: the asset job with the sync's assets selected."""
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        partition_key=name,
        instance=pipeline.instance,
        asset_selection=list(SYNC_ASSETS),
        run_config={"resources": environment_run_config()},
        raise_on_error=False,
    )


def test_a_paused_customers_run_makes_no_zuora_call_succeeds_and_leaves_the_warehouse_alone(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=10, tasks=2)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    _pause(pipeline, name)
    pipeline.simulator.admin.mutate(tenant.name, add=2, update=2, delete=1, seed=5)
    rows, records, row = pipeline.rows(name), _records(pipeline, name), pipeline.customer(name)
    admin = pipeline.simulator.admin
    admin.reset_stats()

    outcome = pipeline.sync(name)
    ui = _materialize_from_the_ui(pipeline, name)

    assert outcome.success, outcome.error
    assert ui.success
    assert admin.stats()["requests_total"] == 0, "a paused customer must not reach Zuora (not even /oauth/token)"
    assert pipeline.rows(name) == rows
    assert _records(pipeline, name) == records, "a skipped run is not a sync"
    assert pipeline.customer(name) == row
    # Nothing materialized and no other check evaluated: the step succeeded doing nothing else.
    assert ui.get_asset_materialization_events() == []
    assert [e.check_name for e in ui.get_asset_check_evaluations()] == ["customer_active"]
    assert not [e for e in ui.all_events if e.event_type_value == "STEP_FAILURE"]
    # What the operator sees on that customer's partition.
    (evaluation,) = [e for e in ui.get_asset_check_evaluations() if e.check_name == "customer_active"]
    assert evaluation.partition == name and not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.description == f"paused: paused by an operator; run `zuora-pipeline customers resume {name}`"


def test_a_backfill_over_all_customers_with_one_paused_materializes_the_others(pipeline, sim_tenant):
    tenants = [sim_tenant(workflows=6, tasks=2) for _ in range(3)]
    names = [pipeline.add_customer(t) for t in tenants]
    paused = names[1]
    _pause(pipeline, paused)

    # The default backfill launches one run per partition.
    results = {name: _materialize_from_the_ui(pipeline, name) for name in names}

    assert all(r.success for r in results.values())
    for name, tenant in zip(names, tenants, strict=True):
        materialized = {e.asset_key for e in results[name].get_asset_materialization_events()}
        if name == paused:
            assert materialized == set() and pipeline.rows(name) == {}
        else:
            assert materialized == set(SYNC_ASSETS)
            pipeline.assert_matches_truth(name, tenant.name)
    active = {
        e.partition: e.passed
        for r in results.values()
        for e in r.get_asset_check_evaluations()
        if e.check_name == ACTIVE_CHECK.name
    }
    assert active == {names[0]: True, paused: False, names[2]: True}


def test_resume_brings_a_customer_back(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=5, tasks=2)
    name = pipeline.add_customer(tenant)
    _pause(pipeline, name)
    assert pipeline.customer(name).paused_reason == sync_runs.OPERATOR_PAUSE_REASON
    with write_transaction(pipeline.engine) as conn:
        sync_runs.resume(conn, name)
    resumed = pipeline.customer(name)
    assert (resumed.sync_status, resumed.paused_reason) == (customers.ACTIVE, None)

    outcome = pipeline.sync(name)

    assert outcome.success and outcome.stats.created == 5
    pipeline.assert_matches_truth(name, tenant.name)


def test_bad_credentials_pause_with_the_scrubbed_error_as_the_reason(pipeline, sim_tenant):
    from zuora_pipeline import config

    tenant = sim_tenant(workflows=3, tasks=1)
    name = pipeline.add_customer(tenant)
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, name, client_secret_encrypted=config.secret_box().encrypt("wrong-secret-42"))

    outcome = pipeline.sync(name)

    assert not outcome.success
    customer = pipeline.customer(name)
    assert customer.sync_status == customers.PAUSED
    assert customer.paused_reason and "wrong-secret-42" not in customer.paused_reason
    assert customer.paused_reason == customer.last_sync_error
    (record,) = _records(pipeline, name)
    assert (record["status"], record["error_message"]) == ("failed", customer.paused_reason)
    # The next Materialize shows that reason on the partition, without calling Zuora.
    pipeline.simulator.admin.reset_stats()
    ui = _materialize_from_the_ui(pipeline, name)
    assert ui.success and pipeline.simulator.admin.stats()["requests_total"] == 0
    (evaluation,) = [e for e in ui.get_asset_check_evaluations() if e.check_name == "customer_active"]
    assert evaluation.description.startswith(f"paused: {customer.paused_reason}; run `zuora-pipeline customers resume")
