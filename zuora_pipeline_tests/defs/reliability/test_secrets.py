"""Security: client secrets never leak, never sit in plain text, never travel to a host outside
the allowlist; customer names are validated; SQL is parametrized; customers are isolated."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import click
import dagster as dg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from zuora_pipeline import config
from zuora_pipeline.cli import main
from zuora_pipeline.crypto import new_key
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.customers import CustomerError
from zuora_pipeline.warehouse.schema import metadata
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.defs.reliability.support import (
    Recorded,
    add_customer_at,
    allow_hosts,
    json_transform,
    receiver,
    rewriting_proxy,
    run_records,
    synced_customer,
)

# Characters that change when form-encoded, so a leak of the encoded form would be caught too.
ODD_SECRET = "s3cr+t/with=odd&chars%41 and space"


def _dagster_storage_text(instance: Any, run_ids: list[str]) -> str:
    parts: list[str] = []
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        parts += [dg.serialize_value(run), json.dumps(run.run_config, default=str), json.dumps(dict(run.tags))]
        for entry in run_records(instance, run_id):
            parts += [dg.serialize_value(entry), repr(entry)]
    return "\n".join(parts)


def _warehouse_text(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return "\n".join(
            json.dumps([list(row) for row in conn.execute(sa.select(table))], default=str)
            for table in metadata.sorted_tables
        )


def _leak_forms(secret: str) -> list[str]:
    from urllib.parse import quote, quote_plus

    return [secret, quote_plus(secret), quote(secret, safe="")]


def test_the_secret_is_absent_from_logs_events_config_tags_metadata_errors_and_cli_output(
    pipeline: Any,
    sim_tenant: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    caplog.set_level("DEBUG")
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=10, tasks=2)
    run_ids = [pipeline.sync(name, log_level="DEBUG").run_id]

    # A token endpoint that echoes the form it received (client_secret included) in its 401.
    def echo(endpoint: str, request: Recorded, status: int, body: bytes) -> tuple[int, bytes]:
        if endpoint == "token":
            return 401, json.dumps({"error": "invalid_client", "error_description": request.body.decode()}).encode()
        return status, body

    echoing = sim_tenant(workflows=5, tasks=1)
    with rewriting_proxy(pipeline.simulator.base_url, echo) as proxy:
        allow_hosts(monkeypatch, proxy.host_port)
        echo_name = add_customer_at(pipeline, echoing, proxy.base_url, secret=ODD_SECRET)
        failed = pipeline.sync(echo_name, log_level="DEBUG")
        seen_forms = [parse_qs(r.body.decode()) for r in proxy.requests if r.path == "/oauth/token"]
    assert not failed.success
    assert seen_forms and seen_forms[0]["client_secret"] == [ODD_SECRET], "the proxy did not see the secret"
    assert "[REDACTED]" in (failed.error or ""), failed.error
    run_ids.append(failed.run_id)

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    cli = CliRunner()
    cli_out = "".join(
        r.output
        for r in (
            cli.invoke(main, ["customers", "list", "--json"]),
            cli.invoke(main, ["customers", "list"]),
            cli.invoke(main, ["sync", "--customer", name, "--force", "--in-process"]),
        )
    )
    assert echo_name in cli_out

    captured = capfd.readouterr()
    haystacks = {
        "captured logs": caplog.text,
        "stdout/stderr": captured.out + captured.err,
        "dagster event log, runs, run config and tags": _dagster_storage_text(pipeline.instance, run_ids),
        "sync error": failed.error or "",
        "customer record": repr(pipeline.customer(echo_name)) + str(pipeline.customer(echo_name).last_sync_error),
        "warehouse tables": _warehouse_text(pipeline.engine),
        "CLI output": cli_out,
    }
    for secret in (tenant.client_secret, ODD_SECRET):
        for where, text in haystacks.items():
            for form in _leak_forms(secret):
                assert form not in text, f"a client secret leaked into the {where}"


def test_secrets_are_encrypted_at_rest_and_a_wrong_key_is_a_clear_error(
    pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=8, tasks=2)
    pipeline.simulator.admin.mutate(tenant.name, add=1, update=1, delete=1, seed=51)
    stored = pipeline.customer(name).client_secret_encrypted
    assert tenant.client_secret not in stored and tenant.client_secret not in _warehouse_text(pipeline.engine)
    assert config.secret_box().decrypt(stored) == tenant.client_secret
    before = pipeline.rows(name)

    monkeypatch.setenv("ZUORA_PIPELINE_SECRET_KEY", new_key())
    outcome = pipeline.sync(name)

    assert not outcome.success
    assert "is not the key it was stored with" in (outcome.error or ""), outcome.error
    assert "customers update" in (outcome.error or "")
    assert pipeline.rows(name) == before
    assert pipeline.customer(name).sync_status == customers.ACTIVE

    monkeypatch.setenv("ZUORA_PIPELINE_SECRET_KEY", "not-a-fernet-key")
    garbled = pipeline.sync(name)
    assert not garbled.success and "is not a valid Fernet key" in (garbled.error or "")
    assert "zuora-pipeline secret-key" in (garbled.error or "")
    assert pipeline.rows(name) == before


def test_no_cli_option_takes_a_secret_on_argv_and_stdin_or_env_is_read() -> None:
    for path in (["customers", "add"], ["customers", "update"]):
        command = main
        for part in path:  # the main group loads a command's module on first use
            command = command.get_command(click.Context(command), part)  # type: ignore[attr-defined]
        names = {opt for p in command.params for opt in p.opts}
        assert not {"--client-secret", "--secret", "--password"} & names, f"{' '.join(path)} takes a secret on argv"
        assert "--client-secret-env" in names


def test_a_base_url_outside_the_allowlist_is_refused_before_any_request(
    pipeline: Any, sim_tenant: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = sim_tenant(workflows=3, tasks=1)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("ZP_TEST_SECRET", tenant.client_secret)
    cli = CliRunner()
    with receiver() as elsewhere:
        for url, reason in (
            (elsewhere.base_url, "plain http"),
            ("https://zuora.attacker.example", "not one of Zuora's REST hosts"),
            ("https://rest.zuora.com.attacker.example", "not one of Zuora's REST hosts"),
            ("https://user:pw@rest.zuora.com", "must not contain a user name"),
        ):
            result = cli.invoke(
                main,
                [
                    "customers",
                    "add",
                    "evil",
                    "--base-url",
                    url,
                    "--client-id",
                    "x",
                    "--client-secret-env",
                    "ZP_TEST_SECRET",
                ],
            )
            assert result.exit_code == 1 and reason in result.output, (url, result.output)
        # A base URL that bypassed the CLI (edited in the database) is refused by the run itself.
        name = add_customer_at(pipeline, tenant, elsewhere.base_url)
        outcome = pipeline.sync(name)
        assert elsewhere.requests == [], "a request (with the secret) left for a host outside the allowlist"
    assert not outcome.success and "plain http" in (outcome.error or "")
    assert pipeline.rows(name) == {}


def test_a_next_page_outside_the_allowlist_is_refused_before_any_request(
    pipeline: Any, sim_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = sim_tenant(workflows=30, tasks=1)
    with receiver() as elsewhere:
        hijack = {"on": False}

        def redirect_next(endpoint: str, request: Recorded, data: dict[str, Any]) -> dict[str, Any] | None:
            if endpoint == "list" and hijack["on"] and (data.get("pagination") or {}).get("next_page"):
                data["pagination"]["next_page"] = f"{elsewhere.base_url}/workflows?page=2&page_length=10"
                return data
            return None

        with rewriting_proxy(pipeline.simulator.base_url, json_transform(redirect_next)) as proxy:
            allow_hosts(monkeypatch, proxy.host_port)
            name = add_customer_at(pipeline, tenant, proxy.base_url)
            assert pipeline.sync(name, resources_config={"zuora": {"page_length": 10}}).success
            before = pipeline.rows(name)
            hijack["on"] = True
            outcome = pipeline.sync(name, resources_config={"zuora": {"page_length": 10}})
        assert elsewhere.requests == [], "the bearer token was sent to another origin"
    assert not outcome.success
    assert "points next_page at another origin" in (outcome.error or ""), outcome.error
    assert pipeline.rows(name) == before


@pytest.mark.parametrize("bad", ["", "a b", "a,b", "../etc", "-lead", "a...b", "x" * 65, "a;drop", "ünï", "a/b"])
def test_customer_names_are_validated(bad: str, pipeline: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CustomerError, match="invalid customer name"):
        customers.validate_name(bad)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("ZP_TEST_SECRET", "whatever")
    result = CliRunner().invoke(
        main,
        [
            "customers",
            "add",
            bad,
            "--base-url",
            "https://rest.zuora.com",
            "--client-id",
            "x",
            "--client-secret-env",
            "ZP_TEST_SECRET",
        ],
    )
    assert result.exit_code != 0
    with pipeline.engine.connect() as conn:
        assert customers.names(conn) == []


def test_hostile_text_from_zuora_is_stored_literally(pipeline: Any, sim_tenant: Any) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=5, tasks=2)
    target = sorted(pipeline.rows(name))[0]
    hostile = "x'); DROP TABLE workflows; -- \" %s :name \\"
    pipeline.simulator.admin.update_workflow(tenant.name, target, name=hostile)

    assert pipeline.sync(name).success

    assert pipeline.rows(name)[target]["name"] == hostile
    pipeline.assert_matches_truth(name, tenant.name)


def test_two_customers_on_the_same_tenant_keep_independent_mirrors(pipeline: Any, sim_tenant: Any) -> None:
    tenant = sim_tenant(workflows=12, tasks=3)
    first = pipeline.add_customer(tenant, name="same-tenant-a")
    second = pipeline.add_customer(tenant, name="same-tenant-b")
    assert pipeline.sync(first).success and pipeline.sync(second).success
    pipeline.assert_matches_truth(first, tenant.name)
    pipeline.assert_matches_truth(second, tenant.name)
    ids_a = {r["id"] for r in pipeline.rows(first).values()}
    ids_b = {r["id"] for r in pipeline.rows(second).values()}
    assert ids_a.isdisjoint(ids_b), "two customers share warehouse rows"

    pipeline.simulator.admin.mutate(tenant.name, add=2, update=2, delete=2, seed=52)
    second_before = pipeline.rows(second)
    assert pipeline.sync(first).success
    assert pipeline.rows(second) == second_before, "a sync of one customer wrote another's rows"
    pipeline.assert_matches_truth(first, tenant.name)

    with write_transaction(pipeline.engine) as conn:
        customers.remove(conn, first)
    assert pipeline.rows(second) == second_before
    assert pipeline.sync(second).success
    pipeline.assert_matches_truth(second, tenant.name)
