"""Helpers of the reliability suite: bounded polling, run events, client capture, a rewriting
proxy in front of the simulator and a request recorder (an HTTP "receiver")."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa

from zuora_pipeline import config
from zuora_pipeline.defs.resources import ZuoraResource
from zuora_pipeline.runs.inprocess import ensure_partitions
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.schema import tasks, workflows
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline.zuora import ZuoraClient

ALLOWED_HOSTS_ENV = "ZUORA_PIPELINE_ALLOWED_HOSTS"


def wait_until(
    predicate: Callable[[], bool], *, timeout: float = 60.0, interval: float = 0.01, what: str = "condition"
) -> None:
    """Poll ``predicate`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def allow_hosts(monkeypatch: pytest.MonkeyPatch, *entries: str) -> None:
    current = os.environ.get(ALLOWED_HOSTS_ENV, "")
    monkeypatch.setenv(ALLOWED_HOSTS_ENV, ",".join([e for e in (current, *entries) if e]))


def add_customer_at(
    pipeline: Any, tenant: Any, base_url: str, name: str | None = None, secret: str | None = None
) -> str:
    """Register ``tenant`` as a customer whose base URL is ``base_url`` (a proxy, a receiver...)."""
    name = name or tenant.name
    with write_transaction(pipeline.engine) as conn:
        customers.add(
            conn,
            name=name,
            base_url=base_url,
            client_id=tenant.client_id,
            client_secret_encrypted=config.secret_box().encrypt(secret or tenant.client_secret),
        )
    ensure_partitions(pipeline.instance, [name])
    return name


def run_records(instance: dg.DagsterInstance, run_id: str) -> list[dg.EventLogEntry]:
    return list(instance.all_logs(run_id))


def event_types(instance: dg.DagsterInstance, run_id: str) -> list[dg.DagsterEventType]:
    return [e.dagster_event.event_type for e in run_records(instance, run_id) if e.dagster_event is not None]


def step_retries(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Step keys of every STEP_UP_FOR_RETRY event of the run."""
    return [
        e.dagster_event.step_key or ""
        for e in run_records(instance, run_id)
        if e.dagster_event is not None and e.dagster_event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY
    ]


def check_results(instance: dg.DagsterInstance, run_id: str) -> dict[str, bool]:
    """check name -> passed, from the run's asset check evaluations."""
    out: dict[str, bool] = {}
    for e in run_records(instance, run_id):
        ev = e.dagster_event
        if ev is not None and ev.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            data = ev.event_specific_data
            out[data.check_name] = bool(data.passed)  # type: ignore[union-attr]
    return out


def materialization_metadata(instance: dg.DagsterInstance, run_id: str, asset: str) -> dict[str, Any]:
    for e in run_records(instance, run_id):
        ev = e.dagster_event
        if ev is not None and ev.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = ev.event_specific_data.materialization  # type: ignore[union-attr]
            if mat.asset_key.to_user_string() == asset:
                return {k: v.value for k, v in mat.metadata.items()}
    raise AssertionError(f"no materialization of {asset} in run {run_id}")


@contextmanager
def capture_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ZuoraClient]]:
    """Every ZuoraClient the runs build (to read their metrics after the run)."""
    built: list[ZuoraClient] = []
    original = ZuoraResource.client_for

    def client_for(self: ZuoraResource, customer: customers.Customer) -> ZuoraClient:
        client = original(self, customer)
        built.append(client)
        return client

    monkeypatch.setattr(ZuoraResource, "client_for", client_for)
    yield built


def live_duplicates(engine: sa.Engine) -> tuple[int, int]:
    """(duplicate (customer, zuora_id) workflow groups, duplicate (workflow, zuora_id) task groups)."""
    with engine.connect() as conn:
        wf = conn.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(workflows.c.customer_id, workflows.c.zuora_id)
                .group_by(workflows.c.customer_id, workflows.c.zuora_id)
                .having(sa.func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        tk = conn.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(tasks.c.workflow_id, tasks.c.zuora_id)
                .group_by(tasks.c.workflow_id, tasks.c.zuora_id)
                .having(sa.func.count() > 1)
                .subquery()
            )
        ).scalar_one()
    return int(wf), int(tk)


# ---- HTTP helpers ------------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _Server:
    server: ThreadingHTTPServer
    thread: threading.Thread
    requests: list[Recorded] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


Responder = Callable[[Recorded], tuple[int, dict[str, str], bytes]]


@contextmanager
def http_server(respond: Responder) -> Iterator[_Server]:
    """A local HTTP server that records every request and answers with ``respond(request)``."""
    holder: dict[str, _Server] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            holder["s"].requests.append(request)
            status, headers, payload = respond(request)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, *args: object) -> None:  # keep test output clean
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-http-server", daemon=True)
    holder["s"] = _Server(server, thread)
    thread.start()
    try:
        yield holder["s"]
    finally:
        holder["s"].close()


@contextmanager
def receiver(status: int = 200) -> Iterator[_Server]:
    """Records requests and answers ``status`` with ``{}``: a host that must never be called,
    or a webhook endpoint."""
    with http_server(lambda _r: (status, {"Content-Type": "application/json"}, b"{}")) as server:
        yield server


def endpoint_of(path: str) -> str:
    bare = path.split("?", 1)[0]
    parts = [p for p in bare.split("/") if p]
    if parts == ["oauth", "token"]:
        return "token"
    if parts[:1] == ["workflows"]:
        return {1: "list", 2: "get"}.get(len(parts), parts[-1] if len(parts) == 3 else "other")
    return "other"


Transform = Callable[[str, Recorded, int, bytes], tuple[int, bytes]]


@contextmanager
def rewriting_proxy(upstream: str, transform: Transform) -> Iterator[_Server]:
    """Forward every request to the simulator and pass (endpoint, request, status, body) of each
    answer through ``transform`` before it goes back: crafted Zuora payloads over real HTTP.
    The Host header is kept, so the simulator's next_page links point back at the proxy."""
    http = httpx.Client(base_url=upstream, timeout=30.0)

    def respond(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        headers = {k: v for k, v in request.headers.items() if k in ("authorization", "content-type", "host", "accept")}
        upstream_response = http.request(request.method, request.path, headers=headers, content=request.body)
        status, body = transform(
            endpoint_of(request.path), request, upstream_response.status_code, upstream_response.content
        )
        return status, {"Content-Type": "application/json"}, body

    try:
        with http_server(respond) as server:
            yield server
    finally:
        http.close()


def json_transform(fn: Callable[[str, Recorded, dict[str, Any]], dict[str, Any] | None]) -> Transform:
    """A transform that edits successful JSON bodies (``fn`` returns the new body, or None to
    leave it as it is)."""

    def transform(endpoint: str, request: Recorded, status: int, body: bytes) -> tuple[int, bytes]:
        if status != 200 or endpoint == "token":
            return status, body
        data = json.loads(body)
        new = fn(endpoint, request, data)
        return status, body if new is None else json.dumps(new).encode()

    return transform


# ---- customers around a fault --------------------------------------------------------------------


@dataclass
class Bystander:
    """A second customer synced before the fault: its rows must not move while another
    customer's sync is failing, and its next sync must still equal its truth."""

    name: str
    tenant: Any
    rows: dict[int, dict[str, Any]]

    def assert_untouched(self, pipeline: Any) -> None:
        assert pipeline.rows(self.name) == self.rows, f"{self.name}'s rows changed during another customer's fault"
        outcome = pipeline.sync(self.name)
        assert outcome.success, outcome.error
        assert outcome.stats.retries == 0, "the bystander's sync met the other customer's faults"
        pipeline.assert_matches_truth(self.name, self.tenant.name)


def synced_customer(
    pipeline: Any,
    sim_tenant: Callable[..., Any],
    *,
    workflows: int = 20,
    tasks: int = 3,
    resources_config: dict[str, Any] | None = None,
) -> tuple[str, Any]:
    tenant = sim_tenant(workflows=workflows, tasks=tasks)
    name = pipeline.add_customer(tenant)
    first = pipeline.sync(name, resources_config=resources_config)
    assert first.success, first.error
    pipeline.assert_matches_truth(name, tenant.name)
    return name, tenant


def bystander(pipeline: Any, sim_tenant: Callable[..., Any], *, workflows: int = 10) -> Bystander:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=workflows, tasks=2)
    return Bystander(name, tenant, pipeline.rows(name))
