"""The sync job end to end: real HTTP to the simulator, real PostgreSQL (and SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import tasks, workflows


def _exportable(truth: dict[int, dict]) -> set[int]:
    return {zid for zid, wf in truth.items() if wf["export"] is not None}


def test_full_sync_mirrors_the_tenant_on_postgres(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=75, tasks=6)
    name = pipeline.add_customer(tenant)

    outcome = pipeline.sync(name)

    assert outcome.success, outcome.error
    assert outcome.stats.created == outcome.stats.total == 75
    assert outcome.stats.errors == 0
    pipeline.assert_matches_truth(name, tenant.name)


def test_full_sync_on_the_default_sqlite_warehouse(sqlite_pipeline, sim_tenant):
    tenant = sim_tenant(workflows=30, tasks=4)
    name = sqlite_pipeline.add_customer(tenant)

    outcome = sqlite_pipeline.sync(name)

    assert outcome.success, outcome.error
    sqlite_pipeline.assert_matches_truth(name, tenant.name)


def test_resync_after_mutations_equals_truth_with_exact_stats(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=60, tasks=5)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    admin = pipeline.simulator.admin
    changes = admin.mutate(tenant.name, add=3, update=4, delete=2, seed=11)
    truth = admin.truth(tenant.name)
    admin.reset_stats()

    outcome = pipeline.sync(name)

    assert outcome.success, outcome.error
    assert outcome.stats.created == 3
    assert outcome.stats.updated == 4
    assert outcome.stats.deleted == 2
    assert outcome.stats.total == 61
    assert outcome.stats.unchanged == 61 - 3 - 4
    # Exactly the added and updated workflows that have an active version were exported.
    changed = set(changes.added) | set(changes.updated)
    assert pipeline.requests()["export"] == len(changed & _exportable(truth))
    pipeline.assert_matches_truth(name, tenant.name)
    deleted = {zid: row for zid, row in pipeline.rows(name).items() if row["deleted_at"] is not None}
    assert set(deleted) == set(changes.deleted)


def test_rerun_against_unchanged_tenant_changes_nothing_and_exports_nothing(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=40, tasks=3)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    before = pipeline.rows(name)
    pipeline.simulator.admin.reset_stats()

    outcome = pipeline.sync(name)

    assert outcome.success
    assert (outcome.stats.created, outcome.stats.updated, outcome.stats.deleted) == (0, 0, 0)
    assert outcome.stats.unchanged == 40
    assert pipeline.requests()["export"] == 0
    after = pipeline.rows(name)
    for zid, row in before.items():
        assert after[zid]["updated_at"] == row["updated_at"], "an unchanged row was rewritten"


def test_full_refresh_exports_every_workflow_again(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=30, tasks=3)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    pipeline.simulator.admin.reset_stats()

    outcome = pipeline.sync(name, full_refresh=True)

    assert outcome.success
    assert pipeline.requests()["export"] == len(_exportable(pipeline.simulator.admin.truth(tenant.name)))
    assert outcome.stats.updated == 0


def test_failed_export_keeps_the_last_good_one_and_is_retried_next_sync(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=20, tasks=3)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    admin = pipeline.simulator.admin
    target = sorted(_exportable(admin.truth(tenant.name)))[0]
    good = pipeline.rows(name)[target]["json_export"]
    admin.update_workflow(tenant.name, target, name="renamed while exports fail", tasks=2)
    admin.add_fault_rules([{"endpoint": "export", "fault": "404", "times": 5, "workflow_id": target}])
    try:
        outcome = pipeline.sync(name)
    finally:
        admin.clear_faults()

    assert outcome.success
    assert outcome.stats.errors == 1
    row = pipeline.rows(name)[target]
    assert row["json_export"] == good, "a failed export overwrote the last good one"
    assert len(row["tasks"]) == len(good["tasks"])

    retry = pipeline.sync(name)
    assert retry.success and retry.stats.errors == 0
    pipeline.assert_matches_truth(name, tenant.name)


def test_no_soft_delete_after_an_incomplete_listing(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=120, tasks=2)  # 3 pages of 50
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    admin = pipeline.simulator.admin
    gone = admin.mutate(tenant.name, delete=3, seed=5).deleted
    admin.add_fault_rules([{"endpoint": "list", "fault": "malformed", "times": 100, "page": 2}])
    try:
        outcome = pipeline.sync(name)
    finally:
        admin.clear_faults()

    assert not outcome.success
    assert "GET /workflows" in (outcome.error or "")
    rows = pipeline.rows(name)
    assert all(rows[zid]["deleted_at"] is None for zid in gone), "deleted on a broken listing"
    assert all(row["deleted_at"] is None for row in rows.values())

    assert pipeline.sync(name).success
    assert all(pipeline.rows(name)[zid]["deleted_at"] is not None for zid in gone)


def test_a_soft_deleted_workflow_that_reappears_is_restored(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=10, tasks=2)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    zid = sorted(pipeline.rows(name))[0]
    with pipeline.engine.begin() as conn:
        conn.execute(sa.update(workflows).where(workflows.c.zuora_id == zid).values(deleted_at=datetime.now(UTC)))

    outcome = pipeline.sync(name)

    assert outcome.success and outcome.stats.created == 1
    assert pipeline.rows(name)[zid]["deleted_at"] is None


def test_updated_on_never_moves_backwards(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=5, tasks=2)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    zid = sorted(_exportable(pipeline.simulator.admin.truth(tenant.name)))[0]
    future = datetime.now(UTC) + timedelta(days=30)
    with pipeline.engine.begin() as conn:
        conn.execute(sa.update(workflows).where(workflows.c.zuora_id == zid).values(updated_on=future))
    pipeline.simulator.admin.update_workflow(tenant.name, zid, name="newer name, older timestamp")

    assert pipeline.sync(name).success

    row = pipeline.rows(name)[zid]
    assert row["name"] == "newer name, older timestamp"
    assert row["updated_on"] == future


def test_tasks_removed_from_an_export_are_removed(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=8, tasks=6)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    truth = pipeline.simulator.admin.truth(tenant.name)
    zid = max(_exportable(truth), key=lambda z: len(truth[z]["export"]["tasks"]))
    assert len(pipeline.rows(name)[zid]["tasks"]) > 1
    pipeline.simulator.admin.update_workflow(tenant.name, zid, tasks=1)

    assert pipeline.sync(name).success

    assert len(pipeline.rows(name)[zid]["tasks"]) == 1
    pipeline.assert_matches_truth(name, tenant.name)


def test_reextract_tasks_job_makes_no_api_request(pipeline, sim_tenant):
    from zuora_pipeline.runs.inprocess import run_reextract

    tenant = sim_tenant(workflows=12, tasks=4)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    with pipeline.engine.begin() as conn:
        conn.execute(sa.delete(tasks))
    pipeline.simulator.admin.reset_stats()

    result = run_reextract(pipeline.instance, name)

    assert result.success
    assert sum(pipeline.requests().values()) == 0
    pipeline.assert_matches_truth(name, tenant.name)


def test_shrink_guard_holds_back_a_mass_deletion_until_the_operator_allows_it(pipeline, sim_tenant):
    tenant = sim_tenant(workflows=20, tasks=2)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    gone = pipeline.simulator.admin.mutate(tenant.name, delete=12, seed=3).deleted

    refused = pipeline.sync(name)

    assert not refused.success
    assert "--allow-mass-delete" in (refused.error or "")
    assert all(row["deleted_at"] is None for row in pipeline.rows(name).values())
    assert pipeline.customer(name).last_sync_status == "failed"

    allowed = pipeline.sync(name, allow_mass_delete=True)

    assert allowed.success and allowed.stats.deleted == 12
    assert {z for z, r in pipeline.rows(name).items() if r["deleted_at"]} == set(gone)


def test_materializations_carry_numeric_stats_and_the_sync_record_is_complete(pipeline, sim_tenant):
    import dagster as dg

    from zuora_pipeline.warehouse import sync_runs

    tenant = sim_tenant(workflows=9, tasks=2)
    name = pipeline.add_customer(tenant)
    outcome = pipeline.sync(name)
    assert outcome.success

    def metadata(asset: str) -> dict:
        records = pipeline.instance.fetch_materializations(dg.AssetKey(["zuora", asset]), limit=1).records
        assert records[0].asset_materialization.partition == name
        return records[0].asset_materialization.metadata

    stats = ("created", "updated", "unchanged", "deleted", "total", "errors", "api_calls", "retries", "duration_s")
    for asset in ("workflow_exports", "workflows", "workflow_tasks"):
        for key in stats:
            assert isinstance(metadata(asset)[key], dg.IntMetadataValue | dg.FloatMetadataValue), (asset, key)
    # The listing is counted in pages and workflows, never in rows created or updated.
    pages = metadata("workflow_pages")
    for key in ("pages", "workflows_listed", "api_calls", "retries", "duration_s"):
        assert isinstance(pages[key], dg.IntMetadataValue | dg.FloatMetadataValue), key
    assert not {"created", "updated", "unchanged", "deleted", "total"} & set(pages)
    assert (pages["pages"].value, pages["workflows_listed"].value) == (1, 9)
    assert metadata("workflows")["created"].value == 9
    exportable = len(_exportable(pipeline.simulator.admin.truth(tenant.name)))
    assert metadata("workflow_exports")["created"].value == metadata("workflow_exports")["total"].value == exportable
    assert metadata("workflow_tasks")["created"].value == metadata("workflow_tasks")["total"].value > 0
    api_calls = metadata("workflow_pages")["api_calls"].value + metadata("workflow_exports")["api_calls"].value
    assert api_calls == outcome.stats.api_calls > 0

    with pipeline.engine.connect() as conn:
        record = sync_runs.for_run(conn, pipeline.customer(name).id, outcome.run_id)
    assert record["status"] == "success" and record["finished_at"] is not None
    assert (record["created"], record["total"], record["errors"]) == (9, 9, 0)
    assert record["listing_complete"] is True
    assert record["tasks_upserted"] == sum(len(r["tasks"]) for r in pipeline.rows(name).values())
    # The customer row agrees with its sync record: success means the whole sync (tasks included).
    customer = pipeline.customer(name)
    assert (customer.last_sync_status, customer.last_synced_at) == ("success", record["finished_at"])


def test_each_materialization_links_to_the_customers_page_in_the_browser(pipeline, sim_tenant):
    import dagster as dg

    from zuora_pipeline.defs.factory import build_definitions
    from zuora_pipeline.defs.jobs import SYNC_JOB_NAME
    from zuora_pipeline.defs.options import PipelineOptions
    from zuora_pipeline.defs.resources import environment_run_config

    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    defs = build_definitions(PipelineOptions(browser_url="https://browse.example.com"))
    result = defs.resolve_job_def(SYNC_JOB_NAME).execute_in_process(
        partition_key=name, instance=pipeline.instance, run_config={"resources": environment_run_config()}
    )
    assert result.success
    links = {
        mat.asset_key.path[-1]: mat.metadata["browser"]
        for mat in result.asset_materializations_for_node("sync_workflows")
    }
    assert set(links) == {"workflow_pages", "workflow_exports", "workflows", "workflow_tasks"}
    assert {link.url for link in links.values()} == {f"https://browse.example.com/customers/{name}"}
    assert all(isinstance(link, dg.UrlMetadataValue) for link in links.values())
