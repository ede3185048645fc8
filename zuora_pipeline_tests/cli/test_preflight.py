"""``sync`` checks what a run needs before any run starts: each problem is one ``Error:`` line on
stderr, exit 1, nothing on stdout, no traceback and no run in the Dagster instance."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from alembic import command
from alembic.config import Config
from click.testing import CliRunner, Result

from zuora_pipeline.cli import main
from zuora_pipeline.crypto import new_key
from zuora_pipeline.warehouse import migrate
from zuora_pipeline.warehouse.engine import get_engine


def _sync(*args: str) -> Result:
    return CliRunner().invoke(main, ["sync", *args])


def _assert_refused(result: Result, *expected: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected), result.stderr
    for line, text in zip(lines, expected, strict=True):
        assert line.startswith("Error: ") and text in line, line
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert dg.DagsterInstance.get().get_runs() == [], "a run was created before the pre-flight checks passed"


@pytest.mark.parametrize("mode", [["--in-process"], []], ids=["in-process", "queued"])
def test_unknown_customers_are_one_line_each(cli_env, sim_tenant, mode):
    known = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))

    result = _sync("--customer", known, "--customer", "nope", "--customer", "nada", *mode)

    _assert_refused(result, "no customer named 'nope'", "no customer named 'nada'")


def test_unset_secret_key_is_one_line(cli_env, sim_tenant, monkeypatch):
    first = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    second = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    monkeypatch.delenv("ZUORA_PIPELINE_SECRET_KEY")

    result = _sync("--customer", first, "--customer", second, "--in-process")

    _assert_refused(result, "ZUORA_PIPELINE_SECRET_KEY is not set")


def test_wrong_secret_key_is_one_line_per_customer(cli_env, sim_tenant, monkeypatch):
    first = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    second = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    monkeypatch.setenv("ZUORA_PIPELINE_SECRET_KEY", new_key())

    result = _sync("--all", "--in-process")

    _assert_refused(
        result,
        f"cannot decrypt the client secret of customer '{first}'",
        f"cannot decrypt the client secret of customer '{second}'",
    )


def test_malformed_secret_key_is_one_line(cli_env, sim_tenant, monkeypatch):
    name = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    monkeypatch.setenv("ZUORA_PIPELINE_SECRET_KEY", "not-a-fernet-key")

    _assert_refused(_sync("--customer", name, "--in-process"), "is not a valid Fernet key")


def test_old_schema_is_one_line(tmp_path, monkeypatch, secret_key):
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("ZUORA_PIPELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'old.sqlite'}")
    engine = get_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrate.__file__).with_name("migrations")))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")  # a warehouse one migration behind

    result = _sync("--customer", "acme", "--in-process")

    _assert_refused(result, "is at revision 0001 (this code needs")


def test_a_valid_key_and_known_customers_pass_and_sync(cli_env, sim_tenant):
    name = cli_env.add_customer(sim_tenant(workflows=3, tasks=1))

    result = _sync("--customer", name, "--in-process")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert len(dg.DagsterInstance.get().get_runs()) == 1
