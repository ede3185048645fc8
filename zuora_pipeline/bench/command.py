"""What a user waits for: ``zuora-pipeline sync --in-process`` as a subprocess, start to exit.

The in-process job timing leaves out the interpreter's start, the imports, the Dagster instance's
set-up and the teardown; this one does not. The command runs as the user would start it (the
console script next to this interpreter), against the bench's simulator and warehouse (inherited
through the environment), with a Dagster home of its own. The customer's own max concurrency
gives the command's client the tenant's limit, as an operator would set it
(`customers update NAME --max-concurrency 20`).

The Dagster home is one for the bench process, its storage created before the first timed
command: a user's CLI home (DAGSTER_HOME, or the CLI's own directory) outlives each command, so
only the very first command on a machine creates its SQLite storage (~0.5 s of CPU more).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.dagster_instance import ensure_instance_config
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.transactions import write_transaction

TIMEOUT_S = 600
_homes: list[tempfile.TemporaryDirectory[str]] = []  # this process's command home, removed at exit


def command_home() -> str:
    """The commands' Dagster home: the CLI's development instance, its storage already created."""
    if not _homes:
        home = tempfile.TemporaryDirectory(prefix="zuora_bench_cli_")
        ensure_instance_config(Path(home.name))
        with dg.DagsterInstance.from_config(home.name):
            pass
        _homes.append(home)
    return _homes[0].name


def _command() -> list[str]:
    script = Path(sys.executable).with_name("zuora-pipeline")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from zuora_pipeline.cli import main; main()"]


def timed_command_sync(engine: sa.Engine, customer: str, *, concurrency: int) -> float:
    """Seconds from starting ``zuora-pipeline sync --customer NAME --in-process --force`` to its exit."""
    with write_transaction(engine) as conn:
        customers.update(conn, customer, max_concurrency=concurrency)
    env = dict(os.environ, DAGSTER_HOME=command_home())
    command = [*_command(), "sync", "--customer", customer, "--in-process", "--force"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"bench: `zuora-pipeline {' '.join(command[-6:])}` exited {done.returncode}: {done.stderr.strip()[-500:]}"
        )
    return wall
