"""The alert channels resource and the once-only rule of ``alert_failed_run``."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
import pytest

from zuora_pipeline import config
from zuora_pipeline.defs.notifications import (
    ALERT_SENT_TAG,
    WILL_RETRY_TAG,
    AlertChannels,
    alert_failed_run,
    resolved,
)
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.defs.reliability.support import receiver

ENV = {
    "ZUORA_PIPELINE_ALERT_SMTP_HOST": "smtp.example.com",
    "ZUORA_PIPELINE_ALERT_SMTP_PORT": "2525",
    "ZUORA_PIPELINE_ALERT_SMTP_PASSWORD": "pw-1b2c",
    "ZUORA_PIPELINE_ALERT_SMTP_STARTTLS": "true",
    "ZUORA_PIPELINE_ALERT_WEBHOOK_URL": "https://hooks.example.com/x?token=abc",
}


def test_set_variables_become_env_var_fields_and_unset_ones_keep_their_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channels = AlertChannels.from_environment(ENV)
    # Unresolved, the fields hold the variables' names: what the Resources page shows.
    assert channels.webhook_url == "ZUORA_PIPELINE_ALERT_WEBHOOK_URL"
    assert channels.smtp_password == "ZUORA_PIPELINE_ALERT_SMTP_PASSWORD"
    assert channels.smtp_to is None and channels.smtp_from == "zuora-pipeline@localhost"
    assert channels.smtp_starttls is True
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    values = resolved(channels)
    assert values.webhook_url == ENV["ZUORA_PIPELINE_ALERT_WEBHOOK_URL"]
    assert values.smtp_port == 2525 and values.smtp_password == "pw-1b2c"
    assert not values.email_enabled  # no recipients
    assert "pw-1b2c" not in repr(channels) and "token=abc" not in repr(channels)


def test_without_variables_no_channel_is_configured() -> None:
    channels = resolved(AlertChannels.from_environment({}))
    assert not channels.email_enabled and not channels.webhook_enabled


def _failed_run(pipeline: Any, sim_tenant: Any) -> dg.DagsterRun:
    tenant = sim_tenant(workflows=2, tasks=1)
    name = pipeline.add_customer(tenant)
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, name, client_secret_encrypted=config.secret_box().encrypt("wrong"))
    outcome = pipeline.sync(name, alerts=AlertChannels())  # no channel: nothing sent, not tagged
    assert not outcome.success
    run = pipeline.instance.get_run_by_id(outcome.run_id)
    assert ALERT_SENT_TAG not in run.tags
    return run


def test_a_run_alerts_once_and_a_run_about_to_be_retried_not_at_all(pipeline: Any, sim_tenant: Any) -> None:
    log = dg.get_dagster_logger()
    first, retried = _failed_run(pipeline, sim_tenant), _failed_run(pipeline, sim_tenant)
    pipeline.instance.add_run_tags(retried.run_id, {WILL_RETRY_TAG: "true"})
    with receiver() as hook:
        channels = AlertChannels(webhook_url=f"{hook.base_url}/hook")
        for _ in range(2):
            for run in (pipeline.instance.get_run_by_id(first.run_id), pipeline.instance.get_run_by_id(retried.run_id)):
                alert_failed_run(pipeline.instance, run, [], "boom", channels, log)
        posted = [json.loads(r.body) for r in hook.requests]
    assert [p["run_id"] for p in posted] == [first.run_id]
    assert pipeline.instance.get_run_by_id(first.run_id).tags[ALERT_SENT_TAG] == "webhook"


def test_the_runner_alerts_for_its_failed_in_process_run(pipeline: Any, sim_tenant: Any) -> None:
    tenant = sim_tenant(workflows=2, tasks=1)
    name = pipeline.add_customer(tenant)
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, name, client_secret_encrypted=config.secret_box().encrypt("wrong"))
    with receiver() as hook:
        outcome = pipeline.sync(name, alerts=AlertChannels(webhook_url=f"{hook.base_url}/hook"))
        (post,) = [json.loads(r.body) for r in hook.requests]
    assert not outcome.success
    assert post["customer"] == name and post["run_id"] == outcome.run_id
    assert post["launched_by"] == "zuora-pipeline cli" and post["job"] == "sync_customer_workflows"
    assert "wrong" not in json.dumps(post) and tenant.client_secret not in json.dumps(post)
    # A successful run sends nothing.
    ok = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    with receiver() as hook:
        assert pipeline.sync(ok, alerts=AlertChannels(webhook_url=f"{hook.base_url}/hook")).success
        assert hook.requests == []
