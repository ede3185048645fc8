"""Run the simulator: in a background thread (tests), in a child process (benchmarks, so the
client and server do not share a GIL), or blocking in the foreground (the CLI)."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import httpx
import uvicorn

from zuora_pipeline.simulator.admin_client import SimulatorAdmin
from zuora_pipeline.simulator.app import SimulatorApp
from zuora_pipeline.simulator.config import SimulatorConfig
from zuora_pipeline.simulator.state import SimulatorState

START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SimulatorHandle:
    base_url: str  # e.g. "http://127.0.0.1:54321"
    admin: SimulatorAdmin
    pid: int | None  # the child's pid in process mode; None in thread mode


class _DroppedResponseFilter(logging.Filter):
    """The "drop" fault makes uvicorn log an error by design; keep that out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DroppedResponseFilter) for f in logger.filters):
        logger.addFilter(_DroppedResponseFilter())


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}"


def _uvicorn_config(app: SimulatorApp, *, log_level: str, configure_logging: bool) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        loop="auto",  # uvloop when installed
        http="httptools",
        ws="none",
        lifespan="off",
        access_log=False,
        log_level=log_level,
        log_config=uvicorn.config.LOGGING_CONFIG if configure_logging else None,
        timeout_graceful_shutdown=2,  # "timeout" faults may be sleeping; do not wait for them
        timeout_keep_alive=30,
        backlog=4096,
        server_header=False,
    )


def serve(config: SimulatorConfig, host: str, port: int, *, log_level: str = "info", announce: bool = True) -> None:
    """Serve until interrupted (SIGINT/SIGTERM). Prints the base URL and tenants first."""
    state = SimulatorState(config)
    sock = _bind(host, port)
    base_url = _url(host, sock.getsockname()[1])
    if announce:
        print(f"Zuora simulator listening on {base_url}", flush=True)
        for tenant in state.tenants.values():
            print(f"  {tenant.name}: client_id={tenant.client_id} workflows={len(tenant.order)}", flush=True)
        print(f"  secrets: GET {base_url}/__admin/tenants", flush=True)
    server = uvicorn.Server(_uvicorn_config(SimulatorApp(state), log_level=log_level, configure_logging=True))
    _install_log_filter()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


@contextmanager
def run_simulator(
    config: SimulatorConfig, *, host: str = "127.0.0.1", port: int = 0, mode: Literal["thread", "process"] = "thread"
) -> Iterator[SimulatorHandle]:
    if mode == "thread":
        with _run_in_thread(config, host, port) as handle:
            yield handle
    elif mode == "process":
        with _run_in_process(config, host, port) as handle:
            yield handle
    else:
        raise ValueError(f"mode must be 'thread' or 'process', not {mode!r}")


@contextmanager
def _run_in_thread(config: SimulatorConfig, host: str, port: int) -> Iterator[SimulatorHandle]:
    state = SimulatorState(config)
    sock = _bind(host, port)  # bound before the thread starts, so port=0 resolves immediately
    base_url = _url(host, sock.getsockname()[1])
    server = uvicorn.Server(_uvicorn_config(SimulatorApp(state), log_level="warning", configure_logging=False))
    _install_log_filter()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="zuora-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("simulator thread failed to start")
        time.sleep(0.01)
    admin = SimulatorAdmin(base_url)
    try:
        yield SimulatorHandle(base_url=base_url, admin=admin, pid=None)
    finally:
        admin.close()
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _free_port(host: str) -> int:
    with _bind(host, 0) as sock:
        return int(sock.getsockname()[1])


@contextmanager
def _run_in_process(config: SimulatorConfig, host: str, port: int) -> Iterator[SimulatorHandle]:
    port = port or _free_port(host)
    base_url = _url(host, port)
    command = [
        sys.executable,
        "-m",
        "zuora_pipeline.simulator",
        "serve",
        "--host",
        host,
        "--port",
        str(port),
        "--config-json",
        json.dumps(config.to_json()),
        "--log-level",
        "warning",
        "--quiet",
    ]
    env = dict(os.environ)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    admin = SimulatorAdmin(base_url)
    try:
        _wait_ready(base_url, process)
        yield SimulatorHandle(base_url=base_url, admin=admin, pid=process.pid)
    finally:
        admin.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_ready(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"simulator process exited with code {process.returncode} before it was ready")
            try:
                if client.get(f"{base_url}/__admin/tenants").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise RuntimeError(f"simulator process not ready at {base_url} after {START_TIMEOUT_S:.0f}s")
