"""The wheel as a platform team installs it: `.ci/wheel-smoke` builds it, installs it (no extras,
not editable) into a fresh venv with constraints.txt and syncs a customer from that venv against
the simulator; the tests below then read the installed package and run its commands."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zuora_pipeline.dagster_instance import DEV_INSTANCE_CONFIG
from zuora_pipeline_tests.fixtures.dagster_dev import wait_until

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "zuora_pipeline"


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "DEV_VENV": str(Path(sys.executable).parent.parent)}
    done = subprocess.run(
        ["bash", str(REPO / ".ci" / "wheel-smoke"), str(work)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 customer: 1 ok" in done.stdout
    return work / "venv"


def _run(venv: Path, *args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        env=env or _clean_env(cwd),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user of the wheel: no checkout on the path, a data directory of its own."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DAGSTER_HOME", "ZUORA_PIPELINE_DATABASE_URL")
    }
    return env | {"ZUORA_PIPELINE_DATA_DIR": str(tmp_path / "data")}


def test_migrations_and_the_instance_file_are_package_data_of_the_installed_wheel(
    wheel_venv: Path, tmp_path: Path
) -> None:
    listed = _run(
        wheel_venv,
        "python",
        "-c",
        "import importlib.resources as r, zuora_pipeline as z; root = r.files(z); print(root);"
        "[print(p.relative_to(root)) for p in root.rglob('*') if p.is_file() and '__pycache__' not in p.parts]",
        cwd=tmp_path,
    )
    assert listed.returncode == 0, listed.stderr
    root, *files = listed.stdout.split("\n")
    installed = Path(root)
    assert installed.is_relative_to(wheel_venv), f"{installed} is not the wheel's copy"
    migrations = sorted(
        str(p.relative_to(PACKAGE))
        for p in (PACKAGE / "warehouse" / "migrations").rglob("*")
        if p.suffix in (".py", ".mako")
    )
    assert "warehouse/migrations/env.py" in migrations
    for name in [*migrations, "dagster.yaml"]:
        assert name in files, f"{name} is not in the wheel"
        assert (installed / name).read_text() == (PACKAGE / name).read_text()
    assert (installed / "dagster.yaml").read_text() == DEV_INSTANCE_CONFIG.read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def code_server(wheel_venv: Path, tmp_path: Path) -> Iterator[int]:
    """`dagster code-server start` from the wheel's venv, under a location name of the operator's."""
    port = _free_port()
    env = _clean_env(tmp_path) | {"DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "dagster.yaml").write_text(DEV_INSTANCE_CONFIG.read_text())
    log = (tmp_path / "code_server.log").open("w")
    serve_at = ["-h", "127.0.0.1", "-p", str(port), "--location-name", "zuora_prod"]
    server = subprocess.Popen(
        [str(wheel_venv / "bin" / "dagster"), "code-server", "start", "-m", "zuora_pipeline.definitions", *serve_at],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield port
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # it and the gRPC server it started
        server.wait(timeout=30)
        log.close()


def test_the_code_location_loads_in_a_code_server_started_from_the_wheel(
    wheel_venv: Path, code_server: int, tmp_path: Path
) -> None:
    env = _clean_env(tmp_path) | {"DAGSTER_HOME": str(tmp_path / "home")}

    def healthy() -> bool:
        return (
            _run(
                wheel_venv, "dagster", "api", "grpc-health-check", "-p", str(code_server), env=env, cwd=tmp_path
            ).returncode
            == 0
        )

    wait_until(healthy, 120, "the code server's health check")
    jobs = _run(
        wheel_venv,
        "dagster",
        "job",
        "list",
        "--grpc-host",
        "127.0.0.1",
        "--grpc-port",
        str(code_server),
        env=env,
        cwd=tmp_path,
    )
    assert jobs.returncode == 0, jobs.stderr
    assert "Job: sync_customer_workflows" in jobs.stdout and "Job: reextract_tasks" in jobs.stdout


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        (["simulator", "serve", "--port", "1"], "simulator"),
        (["demo"], "simulator"),
        (["bench", "full"], "bench"),
    ],
)
def test_a_command_whose_extra_is_missing_names_it_in_one_line(
    wheel_venv: Path, tmp_path: Path, command: list[str], extra: str
) -> None:
    done = _run(wheel_venv, "zuora-pipeline", *command, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"needs the optional `{extra}` extra" in done.stderr
    assert f"pip install 'zuora-pipeline[{extra}]'" in done.stderr


def test_workflows_graph_without_graphviz_or_the_diagrams_extra_names_the_extra(
    wheel_venv: Path, tmp_path: Path, sqlite_pipeline, sim_tenant
) -> None:
    tenant = sim_tenant(workflows=2, tasks=3)
    sqlite_pipeline.add_customer(tenant, "acme")
    assert sqlite_pipeline.sync("acme").success
    workflow_id = str(next(iter(sqlite_pipeline.rows("acme"))))
    env = _clean_env(tmp_path) | {
        "ZUORA_PIPELINE_DATABASE_URL": sqlite_pipeline.engine.url.render_as_string(hide_password=False)
    }
    text = _run(
        wheel_venv,
        "zuora-pipeline",
        "workflows",
        "graph",
        "acme",
        workflow_id,
        "--format",
        "dot",
        env=env,
        cwd=tmp_path,
    )
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("digraph")
    graph = ["workflows", "graph", "acme", workflow_id, "--format", "svg", "--engine", "grandalf"]
    drawn = _run(wheel_venv, "zuora-pipeline", *graph, env=env, cwd=tmp_path)
    assert drawn.returncode != 0
    assert drawn.stderr.strip().splitlines() == [
        "Error: this command needs the optional `diagrams` extra (grandalf is not installed): "
        "pip install 'zuora-pipeline[diagrams]'"
    ]
