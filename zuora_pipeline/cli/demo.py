"""``zuora-pipeline demo``: the whole product on one machine with nothing running.

It starts the simulator, registers its tenants as customers, syncs them all with the Dagster job
on embedded defaults (SQLite warehouse, a local Dagster instance), prints the stats and how to
open the Dagster UI on the same data.
"""

from __future__ import annotations

import errno
import os
import shlex
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from zuora_pipeline import config
from zuora_pipeline.crypto import new_key
from zuora_pipeline.dagster_instance import ensure_instance_config
from zuora_pipeline.warehouse import customers, migrate
from zuora_pipeline.warehouse.transactions import write_transaction

DEMO_CUSTOMERS = ("acme", "globex", "initech")


def _demo_env(data_dir: Path, port: int) -> dict[str, str]:
    """The environment the demo runs in, kept in files so the UI can be opened on it later."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret.key"
    if not key_file.exists():
        # Created owner-only from the first byte (no window where the umask's mode applies).
        fd = os.open(key_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key())
    env = {
        config.DATA_DIR_ENV: str(data_dir),
        config.DATABASE_URL_ENV: f"sqlite:///{data_dir / 'warehouse.sqlite'}",
        config.SECRET_KEY_ENV: key_file.read_text().strip(),
        config.ALLOWED_HOSTS_ENV: f"127.0.0.1:{port}",
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
    }
    ensure_instance_config(Path(env["DAGSTER_HOME"]))
    return env


@click.command("demo")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="where the demo keeps its warehouse, key and Dagster instance "
    "[default: demo/ in ZUORA_PIPELINE_DATA_DIR, else ~/.zuora_pipeline/demo]",
)
@click.option("--port", default=8089, show_default=True, help="simulator port")
@click.option("--workflows", default=120, show_default=True, help="workflows per demo tenant")
@click.option("--tasks", default=8, show_default=True, help="average tasks per workflow")
@click.option("--latency-ms", default=20.0, show_default=True, help="simulated Zuora latency")
@click.option("--keep-serving", is_flag=True, help="keep the simulator running after the sync")
def demo_command(
    data_dir: Path | None, port: int, workflows: int, tasks: int, latency_ms: float, keep_serving: bool
) -> None:
    """Start a simulated Zuora, register three customers and sync them all."""
    data_dir = data_dir or config.data_dir() / "demo"
    env = _demo_env(data_dir.resolve(), port)
    os.environ.update(env)

    from zuora_pipeline.cli import context
    from zuora_pipeline.cli.sync import print_stats_table
    from zuora_pipeline.dagster_workspace import WORKSPACE_YAML
    from zuora_pipeline.runs.inprocess import ensure_partitions, run_sync
    from zuora_pipeline.simulator.config import SimulatorConfig
    from zuora_pipeline.simulator.server import run_simulator

    sim_config = SimulatorConfig(
        tenants=len(DEMO_CUSTOMERS), workflows=workflows, tasks=tasks, seed=7, latency_ms=latency_ms
    )
    engine = context.warehouse(check_schema=False)
    migrate.upgrade(engine)
    box = config.secret_box()
    with ExitStack() as stack:
        try:
            sim = stack.enter_context(run_simulator(sim_config, port=port, mode="thread"))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise click.ClickException(
                f"port {port} is already in use: is an earlier demo's simulator still running "
                f"(`zuora-pipeline simulator serve --port {port} ...`)? Stop it (Ctrl-C in its shell) or run "
                "`zuora-pipeline demo --port N` with a free port"
            ) from None
        click.echo(f"simulated Zuora at {sim.base_url} ({len(DEMO_CUSTOMERS)} tenants x {workflows} workflows)")
        with write_transaction(engine) as conn:
            for name, tenant in zip(DEMO_CUSTOMERS, sim.admin.tenants(), strict=False):
                values: dict[str, Any] = dict(
                    base_url=sim.base_url,
                    client_id=tenant.client_id,
                    client_secret_encrypted=box.encrypt(tenant.client_secret),
                )
                if customers.find(conn, name) is None:
                    customers.add(conn, name=name, display_name=f"{name.title()} (demo)", **values)
                else:
                    customers.update(conn, name, sync_status=customers.ACTIVE, **values)
        instance = context.dagster_instance()
        ensure_partitions(instance, list(DEMO_CUSTOMERS))
        outcomes = [run_sync(instance, engine, name, tags={"zuora/trigger": "demo"}) for name in DEMO_CUSTOMERS]
        click.echo("")
        print_stats_table(outcomes)
        # The key stays in its file: the demo never prints a secret.
        shown = {**env, config.SECRET_KEY_ENV: f"$(cat {shlex.quote(str(data_dir.resolve() / 'secret.key'))})"}
        exports = " ".join(f"{k}={v if k == config.SECRET_KEY_ENV else shlex.quote(v)}" for k, v in shown.items())
        # The commands are spelled with this interpreter's bin directory (the venv need not be on
        # PATH) and a workspace file of the demo's own (they work from any directory).
        bin_dir = Path(sys.executable).parent
        workspace = data_dir.resolve() / "workspace.yaml"
        workspace.write_text(WORKSPACE_YAML)
        click.echo(f"""
The warehouse is {env[config.DATABASE_URL_ENV]}; the Dagster runs are in {env["DAGSTER_HOME"]}.
Open the Dagster UI on the same data (simulator in one shell, UI in another):

  export {exports}
  {shlex.quote(str(bin_dir / "zuora-pipeline"))} simulator serve --port {port} --tenants {len(DEMO_CUSTOMERS)} \\
      --workflows {workflows} --tasks {tasks} --seed 7 --latency-ms {latency_ms:g}
  {shlex.quote(str(bin_dir / "dagster"))} dev -w {shlex.quote(str(workspace))}
  # then http://127.0.0.1:3000 -> Assets -> zuora
""")
        if keep_serving:
            click.echo(f"simulator still serving at {sim.base_url}; Ctrl-C to stop")
            try:
                import threading

                threading.Event().wait()
            except KeyboardInterrupt:
                pass
        if not all(o.success for o in outcomes):
            raise click.ClickException("some demo syncs failed (see above)")
