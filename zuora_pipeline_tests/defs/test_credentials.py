"""Invalid credentials pause that one customer and nothing else."""

from __future__ import annotations

from zuora_pipeline import config
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.transactions import write_transaction


def test_bad_credentials_fail_the_run_pause_the_customer_and_spare_the_others(pipeline, sim_tenant):
    good = sim_tenant(workflows=10, tasks=2)
    bad = sim_tenant(workflows=10, tasks=2)
    good_name = pipeline.add_customer(good)
    bad_name = pipeline.add_customer(bad)
    assert pipeline.sync(bad_name).success
    before = pipeline.rows(bad_name)
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, bad_name, client_secret_encrypted=config.secret_box().encrypt("wrong-secret"))
    pipeline.simulator.admin.reset_stats()

    outcome = pipeline.sync(bad_name)

    assert not outcome.success
    assert "authentic" in outcome.error.lower() or "credential" in outcome.error.lower()
    assert "wrong-secret" not in outcome.error
    stats = pipeline.simulator.admin.stats()
    assert stats["by_endpoint"].get("token", 0) <= 2, "bad credentials must not be retried"
    customer = pipeline.customer(bad_name)
    assert customer.sync_status == customers.PAUSED
    assert customer.last_sync_error and "wrong-secret" not in customer.last_sync_error
    assert pipeline.rows(bad_name) == before, "a failed sync changed the warehouse"

    other = pipeline.sync(good_name)
    assert other.success
    assert pipeline.customer(good_name).sync_status == customers.ACTIVE
