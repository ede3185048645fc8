"""Fault family 3: a token revoked mid-sync, and credentials that are simply wrong."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from zuora_pipeline import config
from zuora_pipeline.runs.inprocess import SyncOutcome
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.defs.reliability.support import bystander, step_retries, synced_customer, wait_until


def test_token_revoked_mid_sync_costs_exactly_one_refresh(pipeline: Any, sim_tenant: Any, sim_admin_reset: Any) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=40, tasks=2)
    admin = sim_admin_reset
    admin.set_limits(latency_ms=60)  # exports overlap, so the revocation lands mid-walk
    admin.reset_stats()
    result: dict[str, SyncOutcome] = {}
    worker = threading.Thread(target=lambda: result.update(o=pipeline.sync(name, full_refresh=True)))
    worker.start()
    try:
        wait_until(lambda: admin.stats()["by_endpoint"].get("export", 0) >= 5, what="exports in flight")
        admin.revoke_tokens(tenant.name)
    finally:
        worker.join(timeout=120)
    assert not worker.is_alive()
    outcome = result["o"]

    assert outcome.success, outcome.error
    pipeline.assert_matches_truth(name, tenant.name)
    stats = admin.stats()
    rejected = sum(n for key, n in stats["requests"].items() if key.endswith(" 401"))
    assert rejected >= 1, "the revocation did not hit the sync (it ended first)"
    # The sync started on the cached token; every thread that met a 401 shares one new token.
    assert stats["tokens_issued"].get(tenant.name, 0) == 1
    assert stats["by_endpoint"]["token"] == 1


@pytest.mark.parametrize("status", [401, 400])
def test_wrong_credentials_pause_the_customer_say_what_to_do_and_change_nothing(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, status: int
) -> None:
    other = bystander(pipeline, sim_tenant)
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=15, tasks=2)
    admin = sim_admin_reset
    admin.set_options(bad_credentials_status=status)
    admin.mutate(tenant.name, add=2, update=2, delete=3, seed=2)
    before = pipeline.rows(name)
    wrong = "wrong-secret-4f1c2a"
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, name, client_secret_encrypted=config.secret_box().encrypt(wrong))
    admin.reset_stats()

    outcome = pipeline.sync(name)

    assert not outcome.success
    error = outcome.error or ""
    assert "rejected the credentials" in error
    assert f"customers update {name}" in error and f"customers resume {name}" in error, error
    assert wrong not in error and tenant.client_secret not in error
    assert admin.stats()["by_endpoint"]["token"] == 1, "bad credentials must not be retried"
    assert step_retries(pipeline.instance, outcome.run_id) == []
    customer = pipeline.customer(name)
    assert customer.sync_status == customers.PAUSED
    assert customer.last_sync_error and wrong not in customer.last_sync_error
    assert pipeline.rows(name) == before, "a sync with bad credentials changed the warehouse"
    other.assert_untouched(pipeline)

    # The operator fixes the secret and resumes: the next sync converges.
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, name, client_secret_encrypted=config.secret_box().encrypt(tenant.client_secret))
        sync_runs.resume(conn, name)
    fixed = pipeline.sync(name)
    assert fixed.success, fixed.error
    pipeline.assert_matches_truth(name, tenant.name)
