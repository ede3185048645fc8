"""What a user waits for: ``zuora-pipeline sync --in-process`` as a subprocess, start to exit.

The in-process job timing leaves out the interpreter's start, the imports, the Dagster instance's
set-up and the teardown; this one does not. The command runs as the user would start it (the
console script next to this interpreter), against the bench's simulator and warehouse (inherited
through the environment), on a Dagster home given by DAGSTER_HOME. The customer's own max
concurrency gives the command's client the tenant's limit, as an operator would set it
(`customers update NAME --max-concurrency 20`).

Two homes, each made once per bench and outliving its commands as a user's does (so no timed
command creates Dagster's storage, which costs a first command ~0.5 s of CPU more):
- the CLI's own home: the development instance file, Dagster's storage in SQLite files;
- the production instance: the same file with the production storage block
  (``PooledPostgresStorage``) on a scratch PostgreSQL database, what an operator's CLI uses
  beside a deployment. Dagster's SQLite storages open a new connection for every event they
  write (~40 in a sync run) and create a database file for every run; this one keeps its
  connections.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.dagster_instance import DAGSTER_YAML, DEV_INSTANCE_CONFIG, ensure_instance_config
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.transactions import write_transaction

TIMEOUT_S = 600


def production_storage_yaml(dagster_pg_url: str) -> str:
    """The production instance file's ``storage`` block, on ``dagster_pg_url``."""
    return f"""storage:
  custom:
    module: zuora_pipeline.dagster_storage
    class: PooledPostgresStorage
    config:
      postgres_url: "{dagster_pg_url.replace("+psycopg:", "+psycopg2:")}"
"""


def make_command_home(home: Path, *, dagster_pg_url: str | None = None) -> str:
    """A Dagster home for the timed commands, its storage created: the CLI's development instance,
    or with ``dagster_pg_url`` the production instance (the same file plus its PostgreSQL storage)."""
    if dagster_pg_url is None:
        ensure_instance_config(home)
    else:
        home.mkdir(parents=True)
        (home / DAGSTER_YAML).write_text(production_storage_yaml(dagster_pg_url) + DEV_INSTANCE_CONFIG.read_text())
    with dg.DagsterInstance.from_config(str(home)):
        pass
    return str(home)


def _command() -> list[str]:
    script = Path(sys.executable).with_name("zuora-pipeline")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from zuora_pipeline.cli import main; main()"]


def timed_command_sync(engine: sa.Engine, customer: str, *, concurrency: int, home: str) -> float:
    """Seconds from starting ``zuora-pipeline sync --customer NAME --in-process --force`` to its exit."""
    with write_transaction(engine) as conn:
        customers.update(conn, customer, max_concurrency=concurrency)
    env = dict(os.environ, DAGSTER_HOME=home)
    command = [*_command(), "sync", "--customer", customer, "--in-process", "--force"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"bench: `zuora-pipeline {' '.join(command[-6:])}` exited {done.returncode}: {done.stderr.strip()[-500:]}"
        )
    return wall
