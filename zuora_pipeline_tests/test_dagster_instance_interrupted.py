"""A CLI command killed while its Dagster home's storage is being created (the first command on a
fresh machine) leaves nothing that breaks the next command; storage that something else left
half-made gets one line saying how to repair it. Real processes, killed with SIGKILL or SIGINT at
moments picked by watching the files Dagster creates."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from zuora_pipeline import config
from zuora_pipeline.dagster_instance import DEV_INSTANCE_CONFIG
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.transactions import write_transaction

CLI = str(Path(sys.executable).with_name("zuora-pipeline"))
DATABASES = ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")


@pytest.fixture
def env(tmp_path: Path, sqlite_engine: sa.Engine, secret_key: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return base | {
        "ZUORA_PIPELINE_DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False),
        "ZUORA_PIPELINE_DATA_DIR": str(tmp_path / "data"),
    }


def _home(env: dict[str, str]) -> Path:
    return Path(env["ZUORA_PIPELINE_DATA_DIR"]) / "dagster_home"  # the CLI's own home


def _add_acme(engine: sa.Engine) -> None:
    with write_transaction(engine) as conn:
        if customers.find(conn, "acme") is None:
            box = config.secret_box()
            customers.add(
                conn,
                name="acme",
                base_url="https://rest.zuora.com",
                client_id="i",
                client_secret_encrypted=box.encrypt("s"),
            )


def _remove_acme(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`customers remove` deletes the customer's Dagster partition: it opens the CLI's instance."""
    return subprocess.run(
        [CLI, "customers", "remove", "acme", "--yes"], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _assert_storage_complete(home: Path) -> None:
    for database in DATABASES:
        with sqlite3.connect(home / database) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone(), database
    assert not list(home.glob(".storage-build-*"))


@pytest.mark.parametrize("moment", DATABASES)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_first_command_killed_while_its_storage_is_created_breaks_nothing(
    env: dict[str, str], sqlite_engine: sa.Engine, moment: str, sig: signal.Signals
) -> None:
    home = _home(env)
    _add_acme(sqlite_engine)
    first = subprocess.Popen([CLI, "customers", "remove", "acme", "--yes"], env=env, stderr=subprocess.PIPE, text=True)
    # The moment Dagster has started writing this database (its tables are being created).
    deadline = time.monotonic() + 120
    while not list(home.glob(f".storage-build-*/{moment}")):
        assert first.poll() is None, (
            f"the command ended before {moment} appeared: {first.stderr and first.stderr.read()}"
        )
        assert time.monotonic() < deadline, f"{moment} never appeared"
        time.sleep(0.001)
    first.send_signal(sig)
    first.communicate(timeout=60)
    assert first.returncode != 0  # interrupted, not finished
    assert not (home / "history").exists()  # nothing half-made where Dagster reads it

    _add_acme(sqlite_engine)
    second = _remove_acme(env)
    assert second.returncode == 0, second.stderr
    assert second.stderr == ""
    _assert_storage_complete(home)
    assert (home / "dagster.yaml").read_text() == DEV_INSTANCE_CONFIG.read_text()


def test_leftovers_of_a_creation_killed_while_moving_into_place_are_replaced(
    env: dict[str, str], sqlite_engine: sa.Engine
) -> None:
    # What a kill between the two moves leaves: `schedules` moved, the build directory holding
    # `history`. (Too short a window to hit with a signal: the state is made directly.)
    home = _home(env)
    _add_acme(sqlite_engine)
    assert _remove_acme(env).returncode == 0
    build = home / ".storage-build-interrupted"
    build.mkdir()
    (home / "history").rename(build / "history")
    (home / "schedules" / "schedules.db").write_bytes(b"")  # whatever it held is not trusted
    _add_acme(sqlite_engine)
    again = _remove_acme(env)
    assert again.returncode == 0, again.stderr
    _assert_storage_complete(home)


def test_storage_left_half_made_by_something_else_gets_one_line_saying_how_to_repair_it(
    env: dict[str, str], sqlite_engine: sa.Engine
) -> None:
    home = _home(env)
    _add_acme(sqlite_engine)
    assert _remove_acme(env).returncode == 0
    # As Dagster itself leaves its event log index when killed while creating it in place.
    with sqlite3.connect(home / "history" / "runs" / "index.db") as conn:
        conn.execute("DROP TABLE alembic_version")
    _add_acme(sqlite_engine)
    refused = _remove_acme(env)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"Error: the Dagster instance at {home} was left incomplete by an interrupted command "
        f"(history/runs/index.db has no schema revision): repair it with `DAGSTER_HOME={home} dagster instance migrate`"
    ]
    # The repair it names works.
    migrate = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "instance", "migrate"],
        env=env | {"DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    _add_acme(sqlite_engine)
    repaired = _remove_acme(env)
    assert repaired.returncode == 0, repaired.stderr
    _assert_storage_complete(home)
