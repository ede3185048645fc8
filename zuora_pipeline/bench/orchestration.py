"""The Dagster-side scenarios: ``tick`` (the hourly schedule's evaluation for 5,000 customers)
and ``fleet`` (50 customers synced in the hourly schedule's runs, queued as ``sync --all`` queues
them and launched by a real ``dagster-daemon``), both on a PostgreSQL-backed instance in a
scratch database."""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import psutil
import sqlalchemy as sa

from zuora_pipeline import config
from zuora_pipeline.bench.bound import lower_bound_s
from zuora_pipeline.bench.command import production_storage_yaml
from zuora_pipeline.bench.env import TENANT_CONCURRENCY, BenchEnv, create_pg_database, drop_pg_database, pg_server
from zuora_pipeline.bench.measure import RssSampler, measured, median
from zuora_pipeline.bench.results import ScenarioResult
from zuora_pipeline.bench.scenarios import LATENCY_S, PAGE_LENGTH, TASKS, Baseline, scaled
from zuora_pipeline.dagster_workspace import WORKSPACE_YAML
from zuora_pipeline.defs.jobs import SYNC_JOB_NAME
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.defs.schedules import HOURLY_SCHEDULE_NAME
from zuora_pipeline.runs import submit
from zuora_pipeline.runs.inprocess import PARTITIONS_NAME, code_location
from zuora_pipeline.warehouse import customers, migrate, sync_requests
from zuora_pipeline.warehouse.engine import get_engine
from zuora_pipeline.warehouse.schema import customers as customers_table
from zuora_pipeline.warehouse.transactions import write_transaction

TICK_CUSTOMERS = 5_000
NAIVE_SAMPLE = 250
FLEET_CUSTOMERS = 50
FLEET_WORKFLOWS = 200
FLEET_MAX_CONCURRENT_RUNS = 6  # two cores: more runs at once only queue for the CPU
FLEET_TIMEOUT_S = 900
FLEET_TARGET_S = 45


def _instance_yaml(pg_url: str | None) -> str:
    # The production instance's storage (pooled connections) and threaded dequeue.
    storage = production_storage_yaml(pg_url) if pg_url else ""
    return (
        storage
        + f"""run_queue:
  max_concurrent_runs: {FLEET_MAX_CONCURRENT_RUNS}
  dequeue_interval_seconds: 1
  dequeue_use_threads: true
  dequeue_num_workers: 4
  tag_concurrency_limits:
    - key: "dagster/partition"
      value: {{ applyLimitPerUniqueValue: true }}
      limit: 1
# Per-run stdout capture spawns tail and watcher processes for every run: CPU a 2-core
# machine needs for the runs themselves.
compute_logs:
  module: dagster.core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
telemetry:
  enabled: false
"""
    )


@contextmanager
def pg_instance(env: BenchEnv, stem: str) -> Iterator[tuple[dg.DagsterInstance, str, bool]]:
    """A Dagster instance on a scratch PostgreSQL database (SQLite storage if none is reachable)."""
    server = pg_server()
    url = create_pg_database(server, "zp_bench_dagster") if server else None
    home = Path(env.workdir) / stem
    home.mkdir()
    (home / "dagster.yaml").write_text(_instance_yaml(url))
    (home / "workspace.yaml").write_text(WORKSPACE_YAML)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        yield instance, str(home), url is not None
    finally:
        instance.dispose()
        if url is not None:
            drop_pg_database(url)


def _add_customers(env: BenchEnv, names: list[str]) -> None:
    rows = [
        {
            "name": n,
            "base_url": env.sim.base_url,
            "client_id": "bench",
            "client_secret_encrypted": "unused",
            "sync_status": "active",
        }
        for n in names
    ]
    with env.engine.begin() as conn:
        for start in range(0, len(rows), 1000):
            conn.execute(sa.insert(customers_table), rows[start : start + 1000])


def _run_requests(schedule: dg.ScheduleDefinition, instance: dg.DagsterInstance, url: str) -> list[dg.RunRequest]:
    defs = code_location()
    with dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime.now(UTC).replace(minute=0, second=0, microsecond=0),
        repository_def=defs.get_repository_def(),
        resources={"warehouse": WarehouseResource(database_url=url)},
    ) as context:
        data = schedule.evaluate_tick(context)
    return list(data.run_requests or [])


def _evaluate(schedule: dg.ScheduleDefinition, instance: dg.DagsterInstance, url: str) -> int:
    return len(_run_requests(schedule, instance, url))


def tick(env: BenchEnv, scale: float, repeat: int) -> ScenarioResult:
    defs = code_location()
    hourly_workflow_sync = defs.resolve_schedule_def(HOURLY_SCHEDULE_NAME)
    sync_customer_workflows = defs.resolve_job_def(SYNC_JOB_NAME)

    count = scaled(TICK_CUSTOMERS, scale)
    names = [f"{env.unique('tick')}-{i:05d}" for i in range(count)]
    _add_customers(env, names)
    with pg_instance(env, "tick_home") as (instance, _home, on_pg):
        instance.add_dynamic_partitions(PARTITIONS_NAME, names)
        walls, requested = [], 0
        for _ in range(repeat):
            with measured() as m:
                requested = _evaluate(hourly_workflow_sync, instance, env.db.url)
            walls.append(m.wall_s)
        # The baseline: a RunRequest per key that Dagster resolves itself (one query per key).
        sample = names[: min(NAIVE_SAMPLE, count)]

        @dg.schedule(name="naive_hourly_sync", job=sync_customer_workflows, cron_schedule="0 * * * *")
        def naive(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
            return [dg.RunRequest(partition_key=k, run_key=k) for k in sample]

        with measured() as naive_m:
            _evaluate(naive, instance, env.db.url)
    wall = median(walls)
    notes = [] if on_pg else ["no PostgreSQL reachable: SQLite-backed instance"]
    # All active and consecutive: runs of customers_per_run customers each.
    expected = math.ceil(count / config.customers_per_run())
    if requested != expected:
        notes.append(f"{requested} run requests for {count} customers, expected {expected}")
    return ScenarioResult(
        name="tick",
        workload=f"hourly_workflow_sync evaluated for {count:,} active customers "
        f"({config.customers_per_run()} per run) "
        f"({'PostgreSQL' if on_pg else 'SQLite'} instance)",
        target="<= 5 s",
        wall_s=wall,
        baseline_s=naive_m.wall_s * count / len(sample),
        baseline_estimated=len(sample) != count,
        repetitions=repeat,
        met=wall <= 5 and requested == expected,
        notes=notes,
        extra={"run_requests": requested, "naive_per_key_ms": naive_m.wall_s / len(sample) * 1000},
    )


def _daemon_command() -> list[str]:
    found = shutil.which("dagster-daemon", path=str(Path(sys.executable).parent)) or shutil.which("dagster-daemon")
    return [found, "run"] if found else [sys.executable, "-m", "dagster._daemon", "run"]


def _postgres_server_cpu_s(url: str) -> float | None:
    """CPU of the whole PostgreSQL server (the postmaster and the backends it reaped; other
    clients' too), when it runs on this machine and is visible; else None."""
    try:
        engine = sa.create_engine(url.replace("+psycopg2", "+psycopg"), poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            backend = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            postmaster = psutil.Process(psutil.Process(backend).ppid())
        engine.dispose()
        times = postmaster.cpu_times()
    except (sa.exc.SQLAlchemyError, psutil.Error):
        return None
    return times.user + times.system + times.children_user + times.children_system


def fleet(env: BenchEnv, scale: float, baseline: Baseline, customer_count: int | None = None) -> ScenarioResult:
    per_run = config.customers_per_run()
    count = customer_count or scaled(FLEET_CUSTOMERS, scale, minimum=2)
    workflows = scaled(FLEET_WORKFLOWS, scale)
    with fleet_warehouse(env) as url, pg_instance(env, "fleet_home") as (instance, home, on_pg):
        # Its own warehouse holding only the fleet's customers, their partitions added up front:
        # customer_partitions_sensor (running in the daemon) then has nothing to add or onboard,
        # so the only runs are the ones queued below.
        engine = get_engine(url)
        fleet_customers = []
        for _ in range(count):
            tenant = env.tenant("fleet", workflows=workflows, tasks=TASKS)
            with write_transaction(engine) as conn:
                added = customers.add(
                    conn,
                    name=env.unique("fleet"),
                    base_url=env.sim.base_url,
                    client_id=tenant.client_id,
                    client_secret_encrypted=config.secret_box().encrypt(tenant.client_secret),
                    max_concurrency=TENANT_CONCURRENCY,
                )
            fleet_customers.append(added)
        env.sim.admin.reset_stats()
        instance.add_dynamic_partitions(PARTITIONS_NAME, [c.name for c in fleet_customers])
        daemon_env = {**os.environ, "DAGSTER_HOME": home, "ZUORA_PIPELINE_DATABASE_URL": url}
        pg_before = _postgres_server_cpu_s(url) if on_pg else None
        daemon = subprocess.Popen(
            [*_daemon_command(), "-w", os.path.join(home, "workspace.yaml")],
            cwd=home,
            env=daemon_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its code server outlives a terminated daemon: stopped below
        )
        try:
            # At an hourly tick the daemon is up with the code location loaded: time from the
            # sync requests (as `sync --all` queues them; the sensor makes the schedule's runs of
            # them), once the daemon evaluates the sensor, not from starting either.
            _wait_for_daemons(instance, daemon, engine)
            with RssSampler(daemon.pid, include_children=True) as sampler, measured() as m:
                ids = submit.queue(engine, fleet_customers)
                for _ in submit.follow(engine, ids, outcomes=True, timeout_s=FLEET_TIMEOUT_S):
                    pass
                with engine.connect() as conn:
                    run_ids = sorted({r.run_id for r in sync_requests.load(conn, ids) if r.run_id})
                records = _wait_for(instance, run_ids, daemon)
        finally:
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
            _stop_session(daemon.pid)
        pg_after = _postgres_server_cpu_s(url) if pg_before is not None else None
    stats = env.sim.admin.stats()
    failed = [r.dagster_run.run_id for r in records if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS]
    run_seconds = [r.end_time - r.start_time for r in records if r.start_time and r.end_time]
    bound = lower_bound_s(workflows, page_length=PAGE_LENGTH, latency_s=LATENCY_S, concurrency=TENANT_CONCURRENCY)
    base, _estimated = baseline.estimate(workflows)
    notes = [] if on_pg else ["no PostgreSQL reachable: SQLite-backed instance"]
    if failed:
        notes.append(f"{len(failed)} runs did not succeed")
    return ScenarioResult(
        name="fleet",
        workload=f"{count} customers x {workflows} workflows x {TASKS} tasks, queued as `sync --all` "
        f"({len(run_ids)} runs of up to {per_run} customers), dagster-daemon "
        f"({'PostgreSQL' if on_pg else 'SQLite'} instance, {FLEET_MAX_CONCURRENT_RUNS} runs at once)",
        target=f"requests to last run done <= {FLEET_TARGET_S} s",
        wall_s=m.wall_s,
        # Customers synced at once: the customers of up to FLEET_MAX_CONCURRENT_RUNS runs.
        bound_s=bound * math.ceil(count / (FLEET_MAX_CONCURRENT_RUNS * per_run)),
        requests={k: v for k, v in stats["by_endpoint"].items() if v},
        peak_rss_mb=sampler.peak / (1024 * 1024),
        baseline_s=base * count,
        baseline_estimated=True,
        met=m.wall_s <= FLEET_TARGET_S and not failed,
        notes=notes,
        extra={
            "runs": len(run_ids),
            "customers_per_run": per_run,
            "median_run_s": median(run_seconds),
            "429s": stats["in_flight_limit_rejections"],
            "failed_runs": len(failed),
            # The PostgreSQL server holding the warehouse and Dagster's storage (all its clients).
            "postgres_cpu_s_per_customer": (
                (pg_after - pg_before) / count if pg_after is not None and pg_before is not None else None
            ),
        },
    )


def _stop_session(session: int) -> None:
    """Stop what is left of the daemon's session (its code server), waiting a bounded time."""
    deadline = time.monotonic() + 30
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(session, sig)
        except ProcessLookupError:
            return
        while time.monotonic() < deadline:
            try:
                os.killpg(session, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        deadline = time.monotonic() + 10


@contextmanager
def fleet_warehouse(env: BenchEnv) -> Iterator[str]:
    url = None
    if env.db.dialect == "postgresql":
        url = create_pg_database(pg_server() or "", "zp_bench_fleet")
    url = url or f"sqlite:///{os.path.join(env.workdir, 'fleet_warehouse.sqlite')}"
    migrate.upgrade(get_engine(url))
    try:
        yield url
    finally:
        get_engine(url).dispose()
        if url.startswith("postgresql"):
            drop_pg_database(url)


def _wait_for_daemons(instance: dg.DagsterInstance, daemon: subprocess.Popen[bytes], engine: sa.Engine) -> None:
    """Until every daemon beats and the sync requests sensor has run."""
    deadline = time.monotonic() + FLEET_TIMEOUT_S
    required = set(instance.get_required_daemon_types())
    while True:
        try:
            submit.require_watcher(engine)
            if required <= set(instance.get_daemon_heartbeats()):
                return
        except submit.NotWatchedError:
            pass
        if daemon.poll() is not None:
            raise RuntimeError(f"dagster-daemon exited with code {daemon.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"dagster-daemon not up after {FLEET_TIMEOUT_S} s")
        time.sleep(0.2)


def _wait_for(
    instance: dg.DagsterInstance, run_ids: list[str], daemon: subprocess.Popen[bytes]
) -> Sequence[dg.RunRecord]:
    deadline = time.monotonic() + FLEET_TIMEOUT_S
    while True:
        records = instance.get_run_records(dg.RunsFilter(run_ids=run_ids))
        if len(records) == len(run_ids) and all(r.dagster_run.is_finished for r in records):
            return records
        if daemon.poll() is not None:
            raise RuntimeError(f"dagster-daemon exited with code {daemon.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"fleet runs not finished after {FLEET_TIMEOUT_S} s")
        time.sleep(0.5)
