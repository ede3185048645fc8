"""What every scenario runs against: a simulator process, a scratch warehouse, a Dagster instance.

The simulator runs in its own process so it never competes with the code under test for the GIL.
The warehouse is a scratch database (a fresh PostgreSQL database next to
ZUORA_PIPELINE_DATABASE_URL when that points at PostgreSQL, else a temporary SQLite file), so a
bench never touches real data and every scenario starts from the state it describes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from zuora_pipeline import config
from zuora_pipeline.bench.command import make_command_home
from zuora_pipeline.crypto import new_key
from zuora_pipeline.runs.inprocess import SyncOutcome, register_customer, run_sync
from zuora_pipeline.simulator.admin_client import TenantInfo
from zuora_pipeline.simulator.config import SimulatorConfig
from zuora_pipeline.simulator.server import SimulatorHandle, run_simulator
from zuora_pipeline.warehouse import migrate
from zuora_pipeline.warehouse.engine import dispose_engines, get_engine, normalize_url

LOCAL_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
LATENCY_MS = 50.0
TENANT_CONCURRENCY = 20  # the simulator's per-tenant cap, and our client's


@dataclass(frozen=True)
class Database:
    url: str
    dialect: str
    scratch: bool  # created by the bench, dropped at the end


def _admin_engine(server_url: str) -> sa.Engine:
    return sa.create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")


def _server_of(url: str) -> str:
    # URL.set(database=None) keeps the old database in SQLAlchemy 2.1; cut it off the string.
    text = make_url(normalize_url(url)).render_as_string(hide_password=False)
    return text.split("?", 1)[0].rsplit("/", 1)[0]


def create_pg_database(server_url: str, prefix: str) -> str | None:
    """A fresh database on ``server_url``, or None when the server is not reachable."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        engine = _admin_engine(server_url)
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except sa.exc.SQLAlchemyError:
        return None
    return f"{server_url}/{name}"


def drop_pg_database(url: str) -> None:
    parsed = make_url(url)
    engine = _admin_engine(_server_of(url))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        engine.dispose()


def pg_server() -> str | None:
    """The PostgreSQL server to use: the warehouse's when it is PostgreSQL, else the local one."""
    url = os.environ.get(config.DATABASE_URL_ENV, "").strip()
    if url and make_url(normalize_url(url)).get_backend_name() == "postgresql":
        return _server_of(url)
    return LOCAL_PG_SERVER


@dataclass(frozen=True)
class CommandHomes:
    cli: str  # the CLI's own home: the development instance, Dagster's storage in SQLite
    production: str | None  # the production instance on a scratch PostgreSQL database, if one answers


@dataclass
class BenchEnv:
    sim: SimulatorHandle
    db: Database
    engine: sa.Engine
    instance: dg.DagsterInstance
    workdir: str
    stack: ExitStack  # what the bench cleans up at the end
    run_tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    _names: int = 0
    _homes: CommandHomes | None = None

    def command_homes(self) -> CommandHomes:
        """The timed whole commands' Dagster homes, made on first use."""
        if self._homes is None:
            self._homes = CommandHomes(
                cli=make_command_home(Path(self.workdir) / "cli_home"),
                production=self.stack.enter_context(_production_home(self.workdir)),
            )
        return self._homes

    def unique(self, stem: str) -> str:
        self._names += 1
        return f"{stem}-{self.run_tag}-{self._names}"

    def tenant(self, stem: str, *, workflows: int, tasks: int, seed: int = 7) -> TenantInfo:
        return self.sim.admin.create_tenant(self.unique(stem), workflows=workflows, tasks=tasks, seed=seed)

    def add_customer(self, tenant: TenantInfo, stem: str | None = None) -> str:
        return register_customer(
            self.instance,
            self.engine,
            name=self.unique(stem or tenant.name),
            base_url=self.sim.base_url,
            client_id=tenant.client_id,
            client_secret=tenant.client_secret,
        )

    def sync(self, name: str, *, concurrency: int = TENANT_CONCURRENCY, full_refresh: bool = False) -> SyncOutcome:
        outcome = run_sync(
            self.instance,
            self.engine,
            name,
            full_refresh=full_refresh,
            resources_config={"zuora": {"concurrency": concurrency}},
        )
        if not outcome.success:
            raise RuntimeError(f"bench sync of {name} failed: {outcome.error}")
        return outcome

    def step_metadata(self, run_id: str) -> dict[str, dict[str, Any]]:
        """The materialization metadata of a run, by asset key path ("zuora/workflow_exports")."""
        found: dict[str, dict[str, Any]] = {}
        for record in self.instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            event = record.get_dagster_event()
            materialization = event.step_materialization_data.materialization
            found["/".join(materialization.asset_key.path)] = {
                key: value.value for key, value in materialization.metadata.items()
            }
        return found


def _prepare_environment(sim: SimulatorHandle) -> None:
    # The bench registers customers with a key of its own if the operator has none set.
    os.environ.setdefault("ZUORA_PIPELINE_SECRET_KEY", new_key())
    parts = urlsplit(sim.base_url)
    host = f"{parts.hostname}:{parts.port}"
    allowed = [h for h in os.environ.get("ZUORA_PIPELINE_ALLOWED_HOSTS", "").split(",") if h.strip()]
    if host not in allowed:
        os.environ["ZUORA_PIPELINE_ALLOWED_HOSTS"] = ",".join([*allowed, host])


@contextmanager
def scratch_warehouse(workdir: str) -> Iterator[Database]:
    """A migrated scratch warehouse of the same kind as the configured one."""
    configured = os.environ.get(config.DATABASE_URL_ENV, "").strip()
    use_pg = bool(configured) and make_url(normalize_url(configured)).get_backend_name() == "postgresql"
    url = create_pg_database(_server_of(configured), "zp_bench") if use_pg else None
    if url is None:
        url = f"sqlite:///{os.path.join(workdir, 'warehouse.sqlite')}"
    database = Database(url=url, dialect=make_url(url).get_backend_name(), scratch=True)
    migrate.upgrade(get_engine(url))
    try:
        yield database
    finally:
        dispose_engines()
        if database.dialect == "postgresql":
            drop_pg_database(url)


@contextmanager
def _production_home(workdir: str) -> Iterator[str | None]:
    server = pg_server()
    url = create_pg_database(server, "zp_bench_cli_dagster") if server else None
    if url is None:
        yield None
        return
    try:
        yield make_command_home(Path(workdir) / "production_home", dagster_pg_url=url)
    finally:
        drop_pg_database(url)


@contextmanager
def bench_env(*, latency_ms: float = LATENCY_MS, max_concurrency: int = TENANT_CONCURRENCY) -> Iterator[BenchEnv]:
    workdir = tempfile.mkdtemp(prefix="zuora_bench_")
    saved = dict(os.environ)
    try:
        with ExitStack() as stack:
            sim_config = SimulatorConfig(tenants=0, latency_ms=latency_ms, max_concurrency=max_concurrency)
            sim = stack.enter_context(run_simulator(sim_config, mode="process"))
            _prepare_environment(sim)
            db = stack.enter_context(scratch_warehouse(workdir))
            # The Dagster resources read the warehouse URL from the environment (run workers too).
            os.environ[config.DATABASE_URL_ENV] = db.url
            home = os.path.join(workdir, "dagster_home")
            os.makedirs(home)
            with open(os.path.join(home, "dagster.yaml"), "w") as f:
                f.write("telemetry:\n  enabled: false\n")
            instance = stack.enter_context(dg.DagsterInstance.local_temp(home))
            yield BenchEnv(
                sim=sim,
                db=db,
                engine=get_engine(db.url),
                instance=instance,
                workdir=workdir,
                stack=stack,
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(workdir, ignore_errors=True)
