"""Fault families 5, 6 and 7: the listing and the exports disagree, the listing moves while it is
walked, and the listing suddenly shrinks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zuora_pipeline.cli import main
from zuora_pipeline.defs.keys import SYNC_OP
from zuora_pipeline_tests.defs.reliability.support import (
    bystander,
    check_results,
    step_retries,
    synced_customer,
)

SMALL_PAGES = {"zuora": {"page_length": 10}}


def _deleted(rows: dict[int, dict[str, Any]]) -> set[int]:
    return {zid for zid, row in rows.items() if row["deleted_at"] is not None}


def test_a_listed_workflow_whose_export_404s_keeps_its_row_and_last_good_export(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any
) -> None:
    """Deleted between the list call and its export call: the export 404s. The row stays
    (the listing still had it) with its last good export; the next sync, whose listing no
    longer has it, confirms it gone and soft-deletes it."""
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=20, tasks=3)
    admin = sim_admin_reset
    target = sorted(z for z, w in admin.truth(tenant.name).items() if w["export"] is not None)[2]
    good = pipeline.rows(name)[target]
    admin.update_workflow(tenant.name, target, name="updated, then deleted before its export")
    admin.add_fault_rules(
        [{"endpoint": "export", "fault": "404", "times": 1000, "workflow_id": target, "tenant": tenant.name}]
    )

    outcome = pipeline.sync(name)

    assert outcome.success, outcome.error
    assert outcome.stats.errors == 1
    assert admin.stats()["faults_injected"] == {"404": 1}, "an export that 404s is not fetched again"
    row = pipeline.rows(name)[target]
    assert row["deleted_at"] is None
    assert row["json_export"] == good["json_export"] and set(row["tasks"]) == set(good["tasks"])
    assert check_results(pipeline.instance, outcome.run_id)["export_coverage"] is False

    admin.clear_faults()
    admin.delete_workflow(tenant.name, target)
    after = pipeline.sync(name)
    assert after.success, after.error
    assert after.stats.deleted == 1 and after.stats.errors == 0
    pipeline.assert_matches_truth(name, tenant.name)
    assert _deleted(pipeline.rows(name)) == {target}


@pytest.mark.parametrize("concurrency", [1, 8], ids=["pages-in-order", "pages-in-parallel"])
def test_workflows_changing_mid_walk_are_detected_and_the_step_retry_relists(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, concurrency: int
) -> None:
    """While page 2 is served, one workflow of page 1 is deleted and one is added: the ids shift,
    so page 2 skips a workflow that still exists. The sync must not soft-delete it: it confirms
    the missing one with GET /workflows/{id}, distrusts the listing, and the step retry lists
    again.

    With pages one at a time, page 1 is always served before the change, so the listing is
    inconsistent and a step retry is certain. With pages in parallel, page 1 may be served after
    the change (a consistent listing, rightly applied at once) or before it: either way the
    result equals Zuora and no live workflow is deleted."""
    resources = {"zuora": {**SMALL_PAGES["zuora"], "concurrency": concurrency}}
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=40, tasks=2, resources_config=resources)
    admin = sim_admin_reset
    before_ids = set(pipeline.rows(name))
    admin.add_fault_rules(
        [
            {
                "endpoint": "list",
                "fault": "mutate",
                "times": 1,
                "page": 2,
                "tenant": tenant.name,
                "mutation": {"add": 1, "delete": 1},
            }
        ]
    )

    outcome = pipeline.sync(name, resources_config=resources)

    assert outcome.success, outcome.error
    assert admin.stats()["faults_injected"].get("mutate") == 1
    if concurrency == 1:
        assert step_retries(pipeline.instance, outcome.run_id) == [SYNC_OP]
    truth = admin.truth(tenant.name)
    pipeline.assert_matches_truth(name, tenant.name)
    assert _deleted(pipeline.rows(name)) == before_ids - set(truth), "a live workflow was deleted"
    assert outcome.stats.deleted == 1 and outcome.stats.created == 1


def test_a_listing_that_never_settles_fails_and_deletes_nothing(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any
) -> None:
    other = bystander(pipeline, sim_tenant)
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=40, tasks=2, resources_config=SMALL_PAGES)
    admin = sim_admin_reset
    before = pipeline.rows(name)
    admin.add_fault_rules(
        [
            {
                "endpoint": "list",
                "fault": "mutate",
                "times": 1000,
                "page": 2,
                "tenant": tenant.name,
                "mutation": {"add": 1, "delete": 1},
            }
        ]
    )

    # One request at a time: the pages, though requested ahead of the walk, are served in order,
    # so page 2's change lands after page 1 was served (with more in flight, page 1 may be
    # served after it too: a consistent listing of the changed tenant, rightly applied).
    one_at_a_time = {"zuora": {**SMALL_PAGES["zuora"], "concurrency": 1}}
    outcome = pipeline.sync(name, resources_config=one_at_a_time)

    assert not outcome.success
    assert "missing from the listing" in (outcome.error or "") and "nothing was deleted" in (outcome.error or "")
    assert len(step_retries(pipeline.instance, outcome.run_id)) == 3
    assert pipeline.rows(name) == before, "rows changed on a listing that could not be trusted"
    other.assert_untouched(pipeline)

    admin.clear_faults()
    assert pipeline.sync(name, resources_config=SMALL_PAGES).success
    pipeline.assert_matches_truth(name, tenant.name)


def _permissions_lost(admin: Any, tenant: str) -> None:
    """What an API user that lost the Workflow permission sees: an empty first page, and 404
    for every workflow it used to see."""
    admin.add_fault_rules(
        [
            {"endpoint": "list", "fault": "empty", "times": 1000, "page": 1, "tenant": tenant},
            {"endpoint": "get", "fault": "404", "times": 1000, "tenant": tenant},
        ]
    )


def test_a_suddenly_empty_listing_is_held_back_by_the_shrink_guard(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any
) -> None:
    other = bystander(pipeline, sim_tenant)
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=20, tasks=2)
    admin = sim_admin_reset
    before = pipeline.rows(name)
    _permissions_lost(admin, tenant.name)

    refused = pipeline.sync(name)

    assert not refused.success
    assert "would soft-delete 20 of 20" in (refused.error or "") and "--allow-mass-delete" in (refused.error or "")
    assert check_results(pipeline.instance, refused.run_id)["shrink_guard"] is False
    assert _deleted(pipeline.rows(name)) == set()
    assert {z: r["json_export"] for z, r in pipeline.rows(name).items()} == {
        z: r["json_export"] for z, r in before.items()
    }
    assert pipeline.customer(name).last_sync_status == "failed"
    other.assert_untouched(pipeline)

    allowed = pipeline.sync(name, allow_mass_delete=True)
    assert allowed.success, allowed.error
    assert allowed.stats.deleted == 20
    assert _deleted(pipeline.rows(name)) == set(before)

    # The permission comes back: everything is restored.
    admin.clear_faults()
    restored = pipeline.sync(name)
    assert restored.success and restored.stats.created == 20
    pipeline.assert_matches_truth(name, tenant.name)


def test_cli_sync_refuses_a_mass_deletion_until_allow_mass_delete(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=12, tasks=2)
    _permissions_lost(sim_admin_reset, tenant.name)
    runner = CliRunner()

    refused = runner.invoke(main, ["sync", "--customer", name, "--force", "--in-process"])

    assert refused.exit_code == 1, refused.output
    assert "--allow-mass-delete" in refused.output and "1 customer: 1 FAILED" in refused.output
    assert _deleted(pipeline.rows(name)) == set()

    allowed = runner.invoke(main, ["sync", "--customer", name, "--force", "--in-process", "--allow-mass-delete"])

    assert allowed.exit_code == 0, allowed.output
    assert len(_deleted(pipeline.rows(name))) == 12
