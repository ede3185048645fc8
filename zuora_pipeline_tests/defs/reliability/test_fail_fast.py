"""Deterministic errors fail the run at once (``Failure(allow_retries=False)``, one clear line);
transient ones keep the step RetryPolicy (covered in test_step_retries_and_alerts.py and
test_listing_changes.py).

One counterpart here is no simulator of ours: a small server that answers with the example
responses of Zuora's published OpenAPI files, exactly as printed (its ``next_page`` points at
https://rest.zuora.com, another origin than the server's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dagster as dg
import pytest

from zuora_pipeline.crypto import new_key
from zuora_pipeline.defs.policies import STEP_RETRY_DELAY_ENV
from zuora_pipeline.warehouse import customers
from zuora_pipeline_tests.defs.reliability.support import (
    Recorded,
    add_customer_at,
    allow_hosts,
    endpoint_of,
    http_server,
    step_retries,
    synced_customer,
)
from zuora_pipeline_tests.fixtures.openapi import OAUTH_SPEC, WORKFLOWS_SPEC, spec_example

JSON = {"Content-Type": "application/json"}
MOCK_CREDENTIALS = SimpleNamespace(client_id="example-client", client_secret="example-secret")


def _published_examples(request: Recorded) -> tuple[int, dict[str, str], bytes]:
    """Zuora's documented answers: the example token, the example page of GET /workflows."""
    endpoint = endpoint_of(request.path)
    if endpoint == "token":
        return 200, JSON, json.dumps(spec_example(OAUTH_SPEC, "/oauth/token", "post")).encode()
    if endpoint == "list":
        return 200, JSON, json.dumps(spec_example(WORKFLOWS_SPEC, "/workflows")).encode()
    return 404, JSON, b'{"errors": [{"code": "404", "title": "Not Found"}]}'


def _run_events(home: Path) -> tuple[dg.DagsterRun, list[str]]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        return run, step_retries(instance, run.run_id)


@pytest.mark.timeout(240)
def test_cli_sync_against_zuoras_published_examples_fails_at_once_with_one_line(
    pipeline: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`zuora-pipeline sync --in-process` with the default step retry delay (60 s, then 180 s and
    420 s): the foreign next_page is refused without waiting out a single step retry."""
    with http_server(_published_examples) as mock:
        allow_hosts(monkeypatch, mock.host_port)
        name = add_customer_at(pipeline, MOCK_CREDENTIALS, mock.base_url, name="published-examples")
        home = tmp_path / "dagster_home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if k != STEP_RETRY_DELAY_ENV}
        env.update(DAGSTER_HOME=str(home), ZUORA_PIPELINE_DATA_DIR=str(tmp_path))
        cli = str(Path(sys.executable).parent / "zuora-pipeline")

        # The bound is a guard against a hang, far below the 60 s of a first step retry.
        done = subprocess.run(
            [cli, "sync", "--customer", name, "--in-process"],
            env=env,
            capture_output=True,
            text=True,
            timeout=50,
        )

        endpoints = [endpoint_of(r.path) for r in mock.requests]

    assert done.returncode != 0, done.stdout
    recorded = pipeline.customer(name).last_sync_error or ""
    # One line that says what happened and what to do, on the terminal and on the customer.
    assert "\n" not in recorded and "points next_page at another origin (https://rest.zuora.com)" in recorded
    assert "customers update" in recorded, recorded
    assert recorded in done.stderr, done.stderr
    assert endpoints == ["token", "list"], "the page behind the foreign next_page must never be requested"
    run, retries = _run_events(home)
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert retries == [], "a deterministic error waited out a step retry"
    assert pipeline.customer(name).sync_status == customers.ACTIVE


def test_a_looping_listing_fails_without_a_step_retry(pipeline: Any, sim_tenant: Any, sim_admin_reset: Any) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=30, tasks=2)
    admin = sim_admin_reset
    admin.mutate(tenant.name, add=2, update=2, delete=2, seed=3)
    before = pipeline.rows(name)
    admin.add_fault_rules([{"endpoint": "list", "fault": "loop", "times": 1000, "page": 2, "tenant": tenant.name}])
    admin.reset_stats()

    outcome = pipeline.sync(name, resources_config={"zuora": {"page_length": 10}})

    assert not outcome.success
    assert "pagination loop: page 3 would request /workflows?page=2" in (outcome.error or ""), outcome.error
    assert step_retries(pipeline.instance, outcome.run_id) == []
    # Pages are fetched ahead of the walk, so count the looping page's own requests.
    assert admin.stats()["faults_injected"] == {"loop": 1}, "the looping page was requested again"
    assert pipeline.rows(name) == before
    assert pipeline.customer(name).sync_status == customers.ACTIVE

    admin.clear_faults()
    assert pipeline.sync(name, resources_config={"zuora": {"page_length": 10}}).success
    pipeline.assert_matches_truth(name, tenant.name)


def _forbidden_listing(request: Recorded) -> tuple[int, dict[str, str], bytes]:
    if endpoint_of(request.path) == "token":
        return 200, JSON, json.dumps(spec_example(OAUTH_SPEC, "/oauth/token", "post")).encode()
    body = {"success": False, "reasons": [{"code": 50000040, "message": "No permission to view workflows"}]}
    return 403, JSON, json.dumps(body).encode()


def test_a_4xx_listing_fails_without_any_retry(pipeline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with http_server(_forbidden_listing) as mock:
        allow_hosts(monkeypatch, mock.host_port)
        name = add_customer_at(pipeline, MOCK_CREDENTIALS, mock.base_url, name="forbidden")
        outcome = pipeline.sync(name)
        endpoints = [endpoint_of(r.path) for r in mock.requests]

    assert not outcome.success
    error = outcome.error or ""
    assert "HTTP 403" in error and "Workflow permission" in error and "No permission to view workflows" in error
    assert endpoints == ["token", "list"]
    assert step_retries(pipeline.instance, outcome.run_id) == []


@pytest.mark.parametrize(
    ("key", "message"),
    [(None, "is not set"), ("wrong", "is not the key it was stored with"), ("garbled", "is not a valid Fernet key")],
)
def test_a_missing_or_wrong_secret_key_fails_without_a_call_or_a_retry(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, monkeypatch: pytest.MonkeyPatch, key: str, message: str
) -> None:
    name = pipeline.add_customer(sim_tenant(workflows=3, tasks=1))
    if key is None:
        monkeypatch.delenv("ZUORA_PIPELINE_SECRET_KEY")
    else:
        monkeypatch.setenv("ZUORA_PIPELINE_SECRET_KEY", new_key() if key == "wrong" else "not-a-fernet-key")
    sim_admin_reset.reset_stats()

    outcome = pipeline.sync(name)

    assert not outcome.success and message in (outcome.error or ""), outcome.error
    assert step_retries(pipeline.instance, outcome.run_id) == []
    assert sim_admin_reset.stats()["by_endpoint"].get("token", 0) == 0


def test_a_base_url_no_longer_allowed_fails_without_a_retry(
    pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = sim_tenant(workflows=3, tasks=1)
    name = add_customer_at(pipeline, tenant, "http://127.0.0.1:9/", name="not-allowed")

    outcome = pipeline.sync(name)

    assert not outcome.success and "127.0.0.1:9" in (outcome.error or ""), outcome.error
    assert step_retries(pipeline.instance, outcome.run_id) == []
