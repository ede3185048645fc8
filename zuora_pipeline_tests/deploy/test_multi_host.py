"""The production topology as separate hosts on this machine (``hosts.py``: network namespaces
linked by veth pairs, nothing routed between them):

    operator ── db ── control
                 │       │
                code ────┘
                 │
               zuora

- db (10.77.0.2): a PostgreSQL cluster of its own listening on that address only, holding
  Dagster's storage (database ``dagster``) and the warehouse (``warehouse``);
- code (10.77.0.3): ``dagster code-server start`` with the location ``zuora_prod``; run workers
  start there (the DefaultRunLauncher asks the code server for them);
- control (10.77.0.4): ``dagster-webserver`` and ``dagster-daemon`` with a ``grpc_server``
  workspace pointing at the code host;
- operator (10.77.0.5): the CLI, with the warehouse URL only;
- zuora (10.77.0.6): the simulator over https (``tls_simulator.py``: plain http is for loopback
  hosts only), linked to the code host only (customers are added with ``--no-verify``;
  ``ZUORA_PIPELINE_ALLOWED_HOSTS`` lets their base URL through, the code host trusts its
  certificate through ``SSL_CERT_FILE``).

The Dagster hosts use ``deploy/production/dagster.yaml`` as their instance file with
``DAGSTER_PG_*`` pointing at the db host, as the README's Production section says. Needs root and
PostgreSQL's server binaries; ``pytest -m 'not multihost'`` leaves it out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import zuora_pipeline
from zuora_pipeline.crypto import new_key
from zuora_pipeline_tests.deploy.hosts import Hosts
from zuora_pipeline_tests.deploy.tls_simulator import self_signed
from zuora_pipeline_tests.fixtures.dagster_dev import wait_until

pytestmark = pytest.mark.multihost

ADDRESSES = {
    "db": "10.77.0.2",
    "code": "10.77.0.3",
    "control": "10.77.0.4",
    "operator": "10.77.0.5",
    "zuora": "10.77.0.6",
}
LINKS = [("db", "code"), ("db", "control"), ("db", "operator"), ("control", "code"), ("code", "zuora")]
LOCATION = "zuora_prod"
GRPC_PORT, WEB_PORT, PG_PORT, ZUORA_PORT = 4266, 3000, 5432, 8443
WORKFLOWS, TASKS = 12, 3
ZUORA_URL = f"https://{ADDRESSES['zuora']}:{ZUORA_PORT}"
REPO = Path(zuora_pipeline.__file__).resolve().parents[1]
PRODUCTION_INSTANCE = REPO / "deploy" / "production" / "dagster.yaml"
BIN = Path(sys.executable).parent
STARTUP_S = 240.0


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    assert found, "the multihost test needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)"
    return found[-1].parent


@dataclass
class Cluster:
    hosts: Hosts
    env: dict[str, dict[str, str]]
    warehouse_url: str
    tenants: dict[str, dict[str, Any]]

    @property
    def db(self) -> str:
        return ADDRESSES["db"]

    def sql(self, query: str, database: str = "warehouse") -> list[list[str]]:
        """Rows of a query, run on the db host."""
        args = ["psql", "-h", self.db, "-p", str(PG_PORT), "-U", "postgres", "-d", database, "-AtX", "-F", "\t"]
        done = self.hosts.run("db", [*args, "-c", query], self.env["db"])
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    def cli(self, *args: str, check: bool = True, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        """``zuora-pipeline ARGS`` on the operator host."""
        done = self.hosts.run(
            "operator", [str(BIN / "zuora-pipeline"), *args], self.env["operator"], timeout=timeout, check=False
        )
        assert not check or done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    def graphql(self, query: str) -> dict[str, Any]:
        """The webserver's GraphQL API, asked on the control host."""
        url = f"http://{ADDRESSES['control']}:{WEB_PORT}/graphql"
        body = json.dumps({"query": query})
        args = ["curl", "-sf", "-H", "Content-Type: application/json", "--data", body, url]
        answer = json.loads(self.hosts.run("control", args, self.env["control"]).stdout)
        assert "errors" not in answer, answer
        return answer["data"]

    def runs(self) -> dict[str, dict[str, Any]]:
        data = self.graphql(
            "{ runsOrError { ... on Runs { results { runId status startTime endTime tags { key value } } } } }"
        )
        return {
            r["runId"]: {**r, "tags": {t["key"]: t["value"] for t in r["tags"]}} for r in data["runsOrError"]["results"]
        }

    def ended_run(self, run_id: str) -> dict[str, Any]:
        """The run once it has ended (a customer's outcome comes from its sync record, which may
        be written before its run ends)."""
        ended = {"SUCCESS", "FAILURE", "CANCELED"}
        wait_until(lambda: self.runs().get(run_id, {}).get("status") in ended, 120, f"run {run_id} to end")
        return self.runs()[run_id]

    def zuora_admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{ZUORA_URL}/__admin/{path}"
        args = ["curl", "-sf", "--cacert", self.env["code"]["SSL_CERT_FILE"], "-X", method, url]
        args += ["--data", json.dumps(body)] if body is not None else []
        return json.loads(self.hosts.run("zuora", args, self.env["zuora"]).stdout or "null")

    def add_customer(self, name: str, tenant: str) -> None:
        info = self.tenants[tenant]
        env = {**self.env["operator"], "ZUORA_SECRET": info["client_secret"]}
        args = ["customers", "add", name, "--base-url", ZUORA_URL]
        args += ["--client-id", info["client_id"], "--client-secret-env", "ZUORA_SECRET", "--no-verify"]
        done = self.hosts.run("operator", [str(BIN / "zuora-pipeline"), *args], env)
        assert f"added customer {name}" in done.stdout

    def customer_id(self, name: str) -> int:
        ((customer_id,),) = self.sql(f"SELECT id FROM customers WHERE name = '{name}'")
        return int(customer_id)

    def live_workflows(self, name: str) -> int:
        query = f"SELECT count(*) FROM workflows w JOIN customers c ON c.id = w.customer_id WHERE c.name = '{name}' "
        ((count,),) = self.sql(query + "AND w.deleted_at IS NULL")
        return int(count)

    def latest_sync(self, name: str) -> dict[str, str] | None:
        rows = self.sql(
            "SELECT s.run_id, s.status, s.started_at, coalesce(s.finished_at::text, '') FROM sync_runs s "
            f"JOIN customers c ON c.id = s.customer_id WHERE c.name = '{name}' ORDER BY s.id DESC LIMIT 1"
        )
        if not rows:
            return None
        run_id, status, started_at, finished_at = rows[0]
        return {"run_id": run_id, "status": status, "started_at": started_at, "finished_at": finished_at}

    def locks_held_from(self, host: str) -> set[int]:
        """Customer ids whose advisory (sync) lock a session from ``host`` holds now."""
        rows = self.sql(
            "SELECT l.objid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE l.locktype = 'advisory' AND l.granted AND a.client_addr = '{ADDRESSES[host]}'"
        )
        return {int(objid) for (objid,) in rows}


def _common_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / "tmp"
    tmp.mkdir(exist_ok=True)
    return {
        "PATH": f"{BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
    }


def _start_database(hosts: Hosts, work: Path, env: dict[str, str]) -> None:
    pg_bin = _postgres_bin()
    data = work / "db" / "pgdata"
    data.mkdir(parents=True)
    shutil.chown(data, "postgres", "postgres")
    data.chmod(0o700)
    hosts.run(
        "db",
        [str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        env,
        user="postgres",
    )
    with open(data / "pg_hba.conf", "a") as hba:
        hba.write("host all all 10.77.0.0/24 trust\n")
    server = [str(pg_bin / "postgres"), "-D", str(data), "-c", f"listen_addresses={ADDRESSES['db']}"]
    server += ["-c", f"port={PG_PORT}", "-c", f"unix_socket_directories={data}", "-c", "max_connections=300"]
    server += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    hosts.start("db:postgres", "db", server, env, user="postgres")

    def ready() -> bool:
        done = hosts.run("db", ["pg_isready", "-h", ADDRESSES["db"], "-p", str(PG_PORT)], env, check=False)
        return done.returncode == 0

    wait_until(ready, 60, f"PostgreSQL on the db host\n{hosts.log('db:postgres')}")
    for database in ("dagster", "warehouse"):
        hosts.run("db", ["createdb", "-h", ADDRESSES["db"], "-p", str(PG_PORT), "-U", "postgres", database], env)


def _dagster_home(path: Path) -> Path:
    path.mkdir(parents=True)
    shutil.copy(PRODUCTION_INSTANCE, path / "dagster.yaml")
    return path


def _start_code_server(cluster: Cluster) -> None:
    args = [str(BIN / "dagster"), "code-server", "start", "-h", ADDRESSES["code"], "-p", str(GRPC_PORT)]
    args += ["-m", "zuora_pipeline.definitions", "--location-name", LOCATION]
    cluster.hosts.start("code:code-server", "code", args, cluster.env["code"])


def _code_server_up(cluster: Cluster) -> bool:
    check = [str(BIN / "dagster"), "api", "grpc-health-check", "-h", ADDRESSES["code"], "-p", str(GRPC_PORT)]
    return cluster.hosts.run("control", check, cluster.env["control"], check=False).returncode == 0


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    assert os.geteuid() == 0, "the multihost test makes network namespaces: run it as root (or -m 'not multihost')"
    work = Path(tempfile.mkdtemp(prefix="zp-multihost-", dir="/tmp"))
    work.chmod(0o755)  # the postgres user reaches its data directory through it
    hosts = Hosts(ADDRESSES, LINKS, work)
    try:
        hosts.build()
        env = {name: _common_env(work / name) for name in ADDRESSES}
        (work / "db" / "tmp").chmod(0o1777)
        _start_database(hosts, work, env["db"])
        warehouse_url = f"postgresql+psycopg://postgres@{ADDRESSES['db']}:{PG_PORT}/warehouse"
        secret_key = new_key()
        cert, key = self_signed(ADDRESSES["zuora"], work / "zuora")
        dagster_pg = {
            "DAGSTER_PG_USERNAME": "postgres",
            "DAGSTER_PG_PASSWORD": "unused-with-trust-auth",
            "DAGSTER_PG_HOST": ADDRESSES["db"],
            "DAGSTER_PG_DB": "dagster",
            "DAGSTER_PG_PORT": str(PG_PORT),
        }
        env["operator"] |= {
            "ZUORA_PIPELINE_DATABASE_URL": warehouse_url,
            "ZUORA_PIPELINE_SECRET_KEY": secret_key,
            "ZUORA_PIPELINE_DATA_DIR": str(work / "operator" / "data"),
            "ZUORA_PIPELINE_ALLOWED_HOSTS": f"{ADDRESSES['zuora']}:{ZUORA_PORT}",
        }
        env["code"] |= dagster_pg | {
            "DAGSTER_HOME": str(_dagster_home(work / "code" / "dagster_home")),
            "ZUORA_PIPELINE_DATABASE_URL": warehouse_url,
            "ZUORA_PIPELINE_SECRET_KEY": secret_key,
            "ZUORA_PIPELINE_ALLOWED_HOSTS": f"{ADDRESSES['zuora']}:{ZUORA_PORT}",
            "ZUORA_PIPELINE_CUSTOMERS_PER_RUN": "2",
            "ZUORA_PIPELINE_STEP_RETRY_DELAY_S": "1",
            "ZUORA_PIPELINE_DATA_DIR": str(work / "code" / "data"),
            "SSL_CERT_FILE": str(cert),
        }
        env["zuora"]["PYTHONPATH"] = str(REPO)  # the https simulator lives beside this test
        env["control"] |= dagster_pg | {"DAGSTER_HOME": str(_dagster_home(work / "control" / "dagster_home"))}
        workspace = work / "control" / "workspace.yaml"
        workspace.write_text(
            "load_from:\n  - grpc_server:\n"
            f"      host: {ADDRESSES['code']}\n      port: {GRPC_PORT}\n      location_name: {LOCATION}\n"
        )
        simulator = [sys.executable, "-m", "zuora_pipeline_tests.deploy.tls_simulator", ADDRESSES["zuora"]]
        simulator += [str(ZUORA_PORT), str(cert), str(key), "5", str(WORKFLOWS), str(TASKS)]
        hosts.start("zuora:simulator", "zuora", simulator, env["zuora"])
        cluster = Cluster(hosts, env, warehouse_url, {})

        # The operator creates the schema and adds the first customer before anything else runs.
        cluster.cli("db", "upgrade")
        wait_until(lambda: _answers(cluster), 60, "the simulator")
        cluster.tenants = {t["name"]: t for t in cluster.zuora_admin("GET", "tenants")}
        cluster.add_customer("onboarded", "tenant-1")

        _start_code_server(cluster)
        wait_until(lambda: _code_server_up(cluster), STARTUP_S, f"the code server\n{hosts.log('code:code-server')}")
        web = [str(BIN / "dagster-webserver"), "-h", ADDRESSES["control"], "-p", str(WEB_PORT), "-w", str(workspace)]
        hosts.start("control:webserver", "control", web, env["control"])
        daemon = [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)]
        hosts.start("control:daemon", "control", daemon, env["control"])
        server_info = ["curl", "-sf", f"http://{ADDRESSES['control']}:{WEB_PORT}/server_info"]
        wait_until(
            lambda: hosts.run("control", server_info, env["control"], check=False).returncode == 0,
            STARTUP_S,
            f"the webserver\n{hosts.log('control:webserver')}",
        )
        wait_until(
            lambda: cluster.sql("SELECT 1 FROM sensor_heartbeats WHERE sensor = 'sync_requests_sensor'"),
            STARTUP_S,
            f"the daemon to evaluate sync_requests_sensor\n{hosts.log('control:daemon')}",
        )
        yield cluster
    finally:
        hosts.close()


def _answers(cluster: Cluster) -> bool:
    args = ["curl", "-sf", "--cacert", cluster.env["code"]["SSL_CERT_FILE"], f"{ZUORA_URL}/__admin/health"]
    return cluster.hosts.run("zuora", args, cluster.env["zuora"], check=False).returncode == 0


def _sync_json(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {o["customer"]: o for o in map(json.loads, done.stdout.splitlines())}


def test_each_host_reaches_only_the_hosts_it_is_configured_to(cluster):
    reachable: dict[str, set[str]] = {name: set() for name in ADDRESSES}
    for a, b in LINKS:
        reachable[a].add(b)
        reachable[b].add(a)
    for name in ADDRESSES:
        for other, address in ADDRESSES.items():
            if other != name:
                assert cluster.hosts.routes_to(name, address) == (other in reachable[name]), (name, other)
    # The operator host in particular: the warehouse only, no webserver, no code server, no Zuora.
    probe = (
        "import socket, sys; s = socket.socket(); s.settimeout(2); print(s.connect_ex((sys.argv[1], int(sys.argv[2]))))"
    )
    for host, port in (("code", GRPC_PORT), ("control", WEB_PORT), ("zuora", ZUORA_PORT), ("db", PG_PORT)):
        done = cluster.hosts.run(
            "operator", [sys.executable, "-c", probe, ADDRESSES[host], str(port)], cluster.env["operator"]
        )
        assert (done.stdout.strip() == "0") == (host == "db"), (host, done.stdout)
    # Who talks to the database: the code, control and operator hosts (and this check, from the db host).
    clients = {
        addr
        for (addr,) in cluster.sql(
            "SELECT DISTINCT host(client_addr) FROM pg_stat_activity WHERE client_addr IS NOT NULL"
        )
    }
    assert clients <= {ADDRESSES[h] for h in ("code", "control", "operator", "db")}, clients


def test_the_webserver_serves_the_code_location_of_the_code_host(cluster):
    data = cluster.graphql(
        "{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } } }"
    )
    entries = {e["name"]: e["locationOrLoadError"]["__typename"] for e in data["workspaceOrError"]["locationEntries"]}
    assert entries == {LOCATION: "RepositoryLocation"}


def test_a_customer_added_from_the_operator_host_is_onboarded_by_the_sensor(cluster):
    wait_until(
        lambda: (cluster.latest_sync("onboarded") or {}).get("status") == "success",
        STARTUP_S,
        f"the onboarding sync\n{cluster.hosts.log('control:daemon')}",
    )
    record = cluster.latest_sync("onboarded")
    run = cluster.ended_run(record["run_id"])
    assert run["status"] == "SUCCESS" and run["tags"]["zuora/trigger"] == "onboard"
    assert run["tags"]["dagster/partition"] == "onboarded"
    assert cluster.live_workflows("onboarded") == WORKFLOWS


def test_a_queued_sync_wait_from_the_operator_host_syncs_customers_in_one_run(cluster):
    cluster.add_customer("acme", "tenant-2")
    cluster.add_customer("globex", "tenant-3")

    done = cluster.cli("sync", "--customer", "acme", "--customer", "globex", "--wait", "--timeout", "200", "--json")

    outcomes = _sync_json(done)
    assert {n: o["status"] for n, o in outcomes.items()} == {"acme": "success", "globex": "success"}, done.stdout
    assert outcomes["acme"]["run_id"] == outcomes["globex"]["run_id"]  # two customers a run
    run = cluster.ended_run(outcomes["acme"]["run_id"])
    assert run["status"] == "SUCCESS"
    assert (run["tags"]["dagster/asset_partition_range_start"], run["tags"]["dagster/asset_partition_range_end"]) == (
        "acme",
        "globex",
    )
    for name in ("acme", "globex"):
        assert outcomes[name]["total"] == WORKFLOWS == cluster.live_workflows(name)


def test_a_run_of_several_customers_holds_each_customers_lock_across_hosts(cluster):
    ids = {name: cluster.customer_id(name) for name in ("acme", "globex")}
    cluster.zuora_admin("POST", "limits", {"latency_ms": 1500})  # each sync takes several seconds
    try:
        queued = cluster.cli("sync", "--customer", "acme", "--customer", "globex", "--force", "--full-refresh")
        assert queued.stdout.count("queued run ") == 2, queued.stdout
        # Both customers' locks held at once, by sessions of the code host (the run worker).
        wait_until(
            lambda: set(ids.values()) <= cluster.locks_held_from("code"), 120, "the run to hold both customers' locks"
        )
        # The operator host asks for acme's lock (as a sync from there would): it waits for the run.
        probe = (
            "import sqlalchemy as sa, sys\n"
            "from zuora_pipeline.warehouse.engine import create_warehouse_engine\n"
            "from zuora_pipeline.warehouse.transactions import customer_sync_lock\n"
            "engine = create_warehouse_engine(sys.argv[1])\n"
            "with customer_sync_lock(engine, int(sys.argv[2])), engine.connect() as conn:\n"
            "    print(conn.execute(sa.text('SELECT clock_timestamp()')).scalar_one().isoformat())\n"
        )
        args = [sys.executable, "-c", probe, cluster.warehouse_url, str(ids["acme"])]
        got = cluster.hosts.run("operator", args, cluster.env["operator"], timeout=180)
    finally:
        cluster.zuora_admin("POST", "limits", {"latency_ms": 0})
    record = cluster.latest_sync("acme")
    assert record is not None and record["status"] == "success" and record["finished_at"]
    ((acquired_after_sync,),) = cluster.sql(
        f"SELECT '{got.stdout.strip()}'::timestamptz >= '{record['finished_at']}'::timestamptz"
    )
    assert acquired_after_sync == "t", (got.stdout, record)


def test_killing_the_code_host_mid_run_fails_the_run_and_the_next_sync_converges(cluster):
    cluster.add_customer("hooli", "tenant-4")
    cluster.zuora_admin("POST", "limits", {"latency_ms": 1500})
    waiting = subprocess.Popen(
        cluster.hosts.command(
            "operator",
            [str(BIN / "zuora-pipeline"), "sync", "--customer", "hooli", "--wait", "--timeout", "300", "--json"],
        ),
        env=cluster.env["operator"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        hooli = cluster.customer_id("hooli")

        def requested_run_syncing() -> str | None:
            # The run made for this request (an onboarding run of the new customer may go first:
            # the run queue lets one run of a customer at a time), in the middle of its sync.
            rows = cluster.sql(f"SELECT run_id FROM sync_requests WHERE customer_id = {hooli} AND run_id IS NOT NULL")
            record = cluster.latest_sync("hooli") or {}
            running = rows and record.get("run_id") == rows[0][0] and record.get("status") == "running"
            return rows[0][0] if running and hooli in cluster.locks_held_from("code") else None

        killed = wait_until(requested_run_syncing, 180, "the requested run's sync to be running on the code host")
        cluster.hosts.crash("code")  # the code server, its gRPC server and the run worker
        cluster.zuora_admin("POST", "limits", {"latency_ms": 0})
        _start_code_server(cluster)
        wait_until(
            lambda: _code_server_up(cluster),
            STARTUP_S,
            f"the code server again\n{cluster.hosts.log('code:code-server')}",
        )

        out, err = waiting.communicate(timeout=300)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.communicate()
        cluster.zuora_admin("POST", "limits", {"latency_ms": 0})
    assert waiting.returncode == 0, out + err
    outcome = _sync_json(subprocess.CompletedProcess([], 0, out, err))["hooli"]
    # The killed run was failed (its worker was gone) and run retries re-ran it.
    assert cluster.runs()[killed]["status"] == "FAILURE"
    assert outcome["status"] == "success" and outcome["run_id"] != killed
    retry = cluster.ended_run(outcome["run_id"])
    assert retry["tags"].get("dagster/parent_run_id") == killed and retry["status"] == "SUCCESS"
    # And the next sync of the customer goes through the run queue as usual.
    again = _sync_json(cluster.cli("sync", "--customer", "hooli", "--force", "--wait", "--timeout", "200", "--json"))
    assert again["hooli"]["status"] == "success" and again["hooli"]["total"] == WORKFLOWS
    assert cluster.live_workflows("hooli") == WORKFLOWS


def test_hosts_leave_nothing_behind_even_when_the_test_fails():
    work = Path(tempfile.mkdtemp(prefix="zp-multihost-", dir="/tmp"))
    hosts = Hosts({"a": "10.77.0.2", "b": "10.77.0.3"}, [("a", "b")], work)
    env = _common_env(work / "a")
    with pytest.raises(RuntimeError, match="a failing test"):
        try:
            hosts.build()
            sleeper = hosts.start("a:sleep", "a", ["sleep", "600"], env)
            # A child in a process group of its own: found through its namespace all the same.
            stray = hosts.run("a", ["sh", "-c", "setsid sleep 600 > /dev/null 2>&1 & echo $!"], env).stdout
            assert hosts.routes_to("a", "10.77.0.3") and not hosts.routes_to("a", "10.77.0.4")
            raise RuntimeError("a failing test")
        finally:
            hosts.close()
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert hosts.token not in netns and hosts.token not in links
    assert sleeper.poll() is not None
    assert not Path(f"/proc/{int(stray)}").exists() or "Z" in Path(f"/proc/{int(stray)}/stat").read_text().split()[2]
    assert not work.exists()
