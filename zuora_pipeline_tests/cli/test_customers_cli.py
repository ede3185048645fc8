"""``zuora-pipeline customers`` and friends, through click's runner on real PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from zuora_pipeline.cli import main
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.schema import customers as customers_table
from zuora_pipeline.warehouse.transactions import write_transaction

SECRET = "super-secret-value-1234567890"


@pytest.fixture
def cli(pg_engine, pg_url, secret_key, tmp_path, monkeypatch):
    monkeypatch.setenv("ZUORA_PIPELINE_DATABASE_URL", pg_url)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.setenv("ACME_SECRET", SECRET)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def _add(cli, name: str = "acme", **extra: str):
    return cli(
        "customers",
        "add",
        name,
        "--base-url",
        "https://rest.zuora.com",
        "--client-id",
        "0" * 36,
        "--client-secret-env",
        "ACME_SECRET",
        "--no-verify",  # no Zuora here; verification has its own tests
        *extra.values(),
    )


def test_add_encrypts_the_secret_and_list_never_shows_it(cli, pg_engine):
    result = _add(cli)
    assert result.exit_code == 0, result.output
    listed = cli("customers", "list")
    as_json = cli("customers", "list", "--json")

    assert "acme" in listed.output and SECRET not in listed.output + result.output + as_json.output
    assert json.loads(as_json.output)[0]["sync_status"] == "active"
    with pg_engine.connect() as conn:
        stored = conn.execute(sa.select(customers_table.c.client_secret_encrypted)).scalar_one()
    assert SECRET not in stored


def test_secret_from_stdin(cli):
    result = cli(
        "customers",
        "add",
        "globex",
        "--base-url",
        "https://rest.eu.zuora.com",
        "--client-id",
        "1" * 36,
        "--no-verify",
        input=SECRET + "\n",
    )
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output


def test_base_url_outside_zuora_is_refused_at_add_time(cli):
    result = CliRunner().invoke(
        main,
        [
            "customers",
            "add",
            "evil",
            "--base-url",
            "https://attacker.example",
            "--client-id",
            "0" * 36,
            "--client-secret-env",
            "ACME_SECRET",
        ],
    )
    assert result.exit_code != 0
    assert "attacker.example" in result.output and "Traceback" not in result.output
    assert "evil" not in cli("customers", "list").output


def test_invalid_name_is_one_readable_line(cli):
    result = CliRunner().invoke(
        main,
        [
            "customers",
            "add",
            "a,b",
            "--base-url",
            "https://rest.zuora.com",
            "--client-id",
            "0" * 36,
            "--client-secret-env",
            "ACME_SECRET",
        ],
    )
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: invalid customer name")
    assert len(result.output.strip().splitlines()) == 1


def test_update_pause_resume_remove(cli, pg_engine):
    _add(cli)
    with pg_engine.connect() as conn:
        before = conn.execute(sa.select(customers_table.c.id, customers_table.c.client_secret_encrypted)).one()

    updated = cli(
        "customers",
        "update",
        "acme",
        "--client-id",
        "2" * 36,
        "--secret-from-stdin",
        "--no-verify",
        input="new-secret\n",
    )
    assert updated.exit_code == 0 and "new-secret" not in updated.output
    with pg_engine.connect() as conn:
        after = conn.execute(
            sa.select(customers_table.c.id, customers_table.c.client_secret_encrypted, customers_table.c.client_id)
        ).one()
    assert after.id == before.id and after.client_secret_encrypted != before.client_secret_encrypted
    assert after.client_id == "2" * 36

    assert cli("customers", "pause", "acme").exit_code == 0
    listed = json.loads(cli("customers", "list", "--json").output)[0]
    assert (listed["sync_status"], listed["paused_reason"]) == ("paused", "paused by an operator")
    assert "paused because: paused by an operator" in cli("customers", "list").output
    assert cli("customers", "resume", "acme").exit_code == 0
    listed = json.loads(cli("customers", "list", "--json").output)[0]
    assert (listed["sync_status"], listed["paused_reason"]) == ("active", None)

    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions("customers", ["acme"])
    refused = CliRunner().invoke(main, ["customers", "remove", "acme"])
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert cli("customers", "remove", "acme", "--yes").exit_code == 0
    assert json.loads(cli("customers", "list", "--json").output) == []
    assert instance.get_dynamic_partitions("customers") == []


def test_commands_say_when_the_schema_is_missing(tmp_path, monkeypatch, secret_key):
    monkeypatch.setenv("ZUORA_PIPELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    result = CliRunner().invoke(main, ["customers", "list"])
    assert result.exit_code == 1
    assert "zuora-pipeline db upgrade" in result.output
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    again = CliRunner().invoke(main, ["db", "upgrade"])
    assert again.exit_code == 0 and "up to date" in again.output
    assert CliRunner().invoke(main, ["customers", "list"]).exit_code == 0


def test_missing_secret_key_says_how_to_make_one(cli, monkeypatch):
    monkeypatch.delenv("ZUORA_PIPELINE_SECRET_KEY")
    result = CliRunner().invoke(
        main,
        [
            "customers",
            "add",
            "acme",
            "--base-url",
            "https://rest.zuora.com",
            "--client-id",
            "0" * 36,
            "--client-secret-env",
            "ACME_SECRET",
        ],
    )
    assert result.exit_code == 1 and "zuora-pipeline secret-key" in result.output


def test_secret_key_prints_a_usable_key():
    from zuora_pipeline.crypto import SecretBox

    key = CliRunner().invoke(main, ["secret-key"]).output.strip()
    assert SecretBox(key).decrypt(SecretBox(key).encrypt("x")) == "x"


@pytest.mark.parametrize("warehouse", ["postgresql", "sqlite"])
def test_list_shows_times_with_their_zone(warehouse, request, secret_key, tmp_path, monkeypatch):
    engine = request.getfixturevalue("pg_engine" if warehouse == "postgresql" else "sqlite_engine")
    monkeypatch.setenv("ZUORA_PIPELINE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    synced = datetime(2026, 5, 1, 9, 30, 5, tzinfo=UTC)
    with write_transaction(engine) as conn:
        customers.add(
            conn, name="acme", base_url="https://rest.zuora.com", client_id="c" * 36, client_secret_encrypted="x"
        )
        customers.update(conn, "acme", last_synced_at=synced, last_sync_status="success")

    listed = CliRunner().invoke(main, ["customers", "list"])
    as_json = CliRunner().invoke(main, ["customers", "list", "--json"])

    header, row = listed.stdout.splitlines()
    assert "LAST SYNC" in header and "2026-05-01 09:30:05 UTC" in row
    assert json.loads(as_json.stdout)[0]["last_synced_at"] == "2026-05-01T09:30:05+00:00"
