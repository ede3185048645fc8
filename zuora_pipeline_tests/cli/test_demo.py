"""``zuora-pipeline demo`` from a clean data directory, as the README tells a newcomer to run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline_tests.test_dagster_instance import assert_dev_limits


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_syncs_three_customers_and_prints_how_to_open_the_ui(tmp_path):
    data_dir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZUORA_PIPELINE_", "DAGSTER_"))}
    env["HOME"] = str(tmp_path)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("zuora-pipeline")),
            "demo",
            "--data-dir",
            str(data_dir),
            "--port",
            str(_free_port()),
            "--workflows",
            "15",
            "--tasks",
            "3",
            "--latency-ms",
            "0",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = [
        line.split() for line in result.stdout.splitlines() if line.split()[:1] in (["acme"], ["globex"], ["initech"])
    ]
    assert [(r[0], r[1], r[2]) for r in rows] == [("acme", "ok", "15"), ("globex", "ok", "15"), ("initech", "ok", "15")]
    # The printed commands work without the venv on PATH and from any directory: they name this
    # interpreter's bin directory and a workspace file the demo wrote, loading our code location.
    bin_dir = Path(sys.executable).parent
    workspace = data_dir.resolve() / "workspace.yaml"
    assert f"{bin_dir / 'zuora-pipeline'} simulator serve" in result.stdout
    assert f"{bin_dir / 'dagster'} dev -w {workspace}" in result.stdout
    assert "location_name: zuora_pipeline" in workspace.read_text()
    key = (data_dir / "secret.key").read_text().strip()
    assert key not in result.stdout + result.stderr
    engine = sa.create_engine(f"sqlite:///{data_dir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM workflows")).scalar_one() == 45
        assert conn.execute(sa.text("SELECT count(*) FROM tasks")).scalar_one() > 0
    engine.dispose()
    # The demo's Dagster instance has the development configuration: the run queue's limits,
    # the zuora_api pool limit and telemetry off, and no command warned about a missing file.
    assert "No dagster instance configuration file" not in result.stdout + result.stderr
    assert "we collect usage statistics" not in result.stderr
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        assert_dev_limits(instance)
