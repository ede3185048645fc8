"""``customers add/update`` check the credentials with one token request before saving, and carry
the customer's own ``--max-concurrency``, which its syncs never exceed (counted by the simulator)."""

from __future__ import annotations

import json
import socket

from click.testing import CliRunner, Result

from zuora_pipeline.cli import main
from zuora_pipeline.runs.inprocess import ensure_partitions
from zuora_pipeline.warehouse import customers
from zuora_pipeline.zuora.settings import DEFAULT_CONCURRENCY


def _cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _tokens(harness) -> int:
    return harness.requests()["token"]


def _add(harness, tenant, name: str, *extra: str) -> Result:
    return _cli(
        "customers",
        "add",
        name,
        "--base-url",
        harness.simulator.base_url,
        "--client-id",
        tenant.client_id,
        "--client-secret-env",
        "ZP_SECRET",
        *extra,
    )


def _names(harness) -> list[str]:
    with harness.engine.connect() as conn:
        return customers.names(conn)


def test_add_with_good_credentials_makes_one_token_request_and_saves(cli_env, sim_tenant, monkeypatch):
    tenant = sim_tenant(workflows=2, tasks=1)
    monkeypatch.setenv("ZP_SECRET", tenant.client_secret)
    before = _tokens(cli_env)

    result = _add(cli_env, tenant, "good")

    assert result.exit_code == 0, result.output
    assert "credentials accepted by Zuora" in result.stdout
    assert _tokens(cli_env) - before == 1
    assert _names(cli_env) == ["good"]


def test_add_with_bad_credentials_is_one_line_and_saves_nothing(cli_env, sim_tenant, monkeypatch):
    tenant = sim_tenant(workflows=2, tasks=1)
    monkeypatch.setenv("ZP_SECRET", "not-the-secret")
    before = _tokens(cli_env)

    result = _add(cli_env, tenant, "bad")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: Zuora at {cli_env.simulator.base_url} rejected these credentials (HTTP 401 from POST "
        "/oauth/token): customer bad not saved; check the client id and the client secret"
    ]  # not the advice for a saved customer (`customers update`, `customers resume`)
    assert "not-the-secret" not in result.output and result.stdout == ""
    assert _tokens(cli_env) - before == 1
    assert _names(cli_env) == []


def test_add_that_cannot_reach_zuora_mentions_no_verify(cli_env, sim_tenant, monkeypatch):
    tenant = sim_tenant(workflows=2, tasks=1)
    monkeypatch.setenv("ZP_SECRET", tenant.client_secret)
    with socket.socket() as sock:  # a loopback port nothing listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("ZUORA_PIPELINE_ALLOWED_HOSTS", "127.0.0.1")

    result = _cli(
        "customers",
        "add",
        "away",
        "--base-url",
        closed,
        "--client-id",
        tenant.client_id,
        "--client-secret-env",
        "ZP_SECRET",
    )

    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: could not check the credentials with Zuora at {closed} (")
    assert line.endswith(
        "customer away not saved; check the base URL and that Zuora is reachable from here, or add --no-verify "
        "to skip the check"
    )
    assert _names(cli_env) == []


def test_update_takes_one_secret_source(cli_env, sim_tenant, monkeypatch):
    tenant = sim_tenant(workflows=2, tasks=1)
    monkeypatch.setenv("ZP_SECRET", tenant.client_secret)
    assert _add(cli_env, tenant, "acme").exit_code == 0
    stored = cli_env.customer("acme").client_secret_encrypted

    both = CliRunner().invoke(
        main,
        ["customers", "update", "acme", "--client-secret-env", "ZP_SECRET", "--secret-from-stdin"],
        input="other-secret\n",
    )

    assert both.exit_code == 2 and both.stdout == ""
    assert both.stderr.splitlines() == [
        "Error: give --client-secret-env VAR or --secret-from-stdin, not both; "
        "see `zuora-pipeline customers update --help`"
    ]
    assert cli_env.customer("acme").client_secret_encrypted == stored


def test_add_no_verify_saves_without_a_token_request(cli_env, sim_tenant, monkeypatch):
    tenant = sim_tenant(workflows=2, tasks=1)
    monkeypatch.setenv("ZP_SECRET", "not-the-secret")
    before = _tokens(cli_env)

    result = _add(cli_env, tenant, "unchecked", "--no-verify")

    assert result.exit_code == 0, result.output
    assert "not checked (--no-verify)" in result.stdout
    assert _tokens(cli_env) == before
    assert _names(cli_env) == ["unchecked"]


def test_update_verifies_changed_credentials(cli_env, sim_tenant, monkeypatch):
    tenant = sim_tenant(workflows=2, tasks=1)
    monkeypatch.setenv("ZP_SECRET", tenant.client_secret)
    assert _add(cli_env, tenant, "acme").exit_code == 0
    stored = cli_env.customer("acme").client_secret_encrypted
    before = _tokens(cli_env)

    monkeypatch.setenv("ZP_NEW", "wrong-secret")
    refused = _cli("customers", "update", "acme", "--client-secret-env", "ZP_NEW")
    assert refused.exit_code == 1 and len(refused.stderr.splitlines()) == 1
    assert "rejected these credentials" in refused.stderr and "customer acme not changed" in refused.stderr
    assert cli_env.customer("acme").client_secret_encrypted == stored

    bad_id = _cli("customers", "update", "acme", "--client-id", "no-such-client")
    assert bad_id.exit_code == 1 and cli_env.customer("acme").client_id == tenant.client_id
    assert _tokens(cli_env) - before == 2

    unchecked = _cli("customers", "update", "acme", "--client-secret-env", "ZP_NEW", "--no-verify")
    assert unchecked.exit_code == 0, unchecked.output
    assert _tokens(cli_env) - before == 2
    assert cli_env.customer("acme").client_secret_encrypted != stored

    # Only the concurrency or display name: no token request.
    assert _cli("customers", "update", "acme", "--max-concurrency", "4").exit_code == 0
    assert _tokens(cli_env) - before == 2


def test_max_concurrency_is_stored_listed_and_reset(cli_env, sim_tenant, monkeypatch):
    tenant = sim_tenant(workflows=2, tasks=1)
    monkeypatch.setenv("ZP_SECRET", tenant.client_secret)
    assert _add(cli_env, tenant, "acme", "--max-concurrency", "7").exit_code == 0

    listed = _cli("customers", "list")
    row = next(line for line in listed.stdout.splitlines() if line.startswith("acme"))
    assert " 7 " in row and "CONCURRENCY" in listed.stdout
    assert json.loads(_cli("customers", "list", "--json").stdout)[0]["max_concurrency"] == 7

    assert _cli("customers", "update", "acme", "--default-concurrency").exit_code == 0
    assert json.loads(_cli("customers", "list", "--json").stdout)[0]["max_concurrency"] is None
    assert f"default ({DEFAULT_CONCURRENCY})" in _cli("customers", "list").stdout

    out_of_range = _cli("customers", "update", "acme", "--max-concurrency", "0")
    assert out_of_range.exit_code == 2 and "0 is not in the range" in out_of_range.stderr


def test_a_sync_never_exceeds_the_customers_max_concurrency(cli_env, sim_tenant, sim_admin_reset, monkeypatch):
    capped_tenant = sim_tenant(workflows=40, tasks=1)
    open_tenant = sim_tenant(workflows=40, tasks=1)
    monkeypatch.setenv("ZP_SECRET", capped_tenant.client_secret)
    assert _add(cli_env, capped_tenant, "capped", "--max-concurrency", "3").exit_code == 0
    monkeypatch.setenv("ZP_SECRET", open_tenant.client_secret)
    assert _add(cli_env, open_tenant, "uncapped").exit_code == 0
    ensure_partitions(cli_env.instance, ["capped", "uncapped"])
    sim_admin_reset.set_limits(latency_ms=40)  # requests overlap, so the cap is what holds them
    sim_admin_reset.reset_stats()

    assert cli_env.sync("capped", full_refresh=True).success
    assert cli_env.sync("uncapped", full_refresh=True).success

    peaks = sim_admin_reset.stats()["max_in_flight"]
    assert 1 < peaks[capped_tenant.name] <= 3, peaks
    assert peaks[open_tenant.name] > 3, peaks  # the default (20) lets more through
    cli_env.assert_matches_truth("capped", capped_tenant.name)
