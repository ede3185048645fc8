"""The real ``zuora-pipeline`` console script in a subprocess, on the CLI's own Dagster instance
directory (no DAGSTER_HOME): no Dagster noise (instance notices, telemetry banner, warnings, log
lines, stack traces) on stdout or stderr, one line per problem, and parseable JSON logs on request."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import dagster as dg

from zuora_pipeline import config
from zuora_pipeline.cli import console
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.transactions import write_transaction

SCRIPT = shutil.which("zuora-pipeline", path=str(Path(sys.executable).parent)) or "zuora-pipeline"
NOISE = ("dagster.yaml", "Telemetry", "Welcome to Dagster", "Warning", "Traceback", "Stack Trace", " - dagster - ")


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    environ |= {"ZUORA_PIPELINE_DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, env=environ, timeout=300, check=False)


def _assert_quiet(result: subprocess.CompletedProcess[str]) -> None:
    for text in NOISE:
        assert text not in result.stdout + result.stderr, f"{text!r} in:\n{result.stdout}\n{result.stderr}"


def test_a_sync_prints_its_rows_and_nothing_else(pipeline, sim_tenant, tmp_path):
    name = pipeline.add_customer(sim_tenant(workflows=4, tasks=1))

    result = _run(tmp_path, "sync", "--customer", name, "--in-process")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    header, row, summary = result.stdout.splitlines()
    assert header.startswith("CUSTOMER") and row.split()[:3] == [name, "ok", "4"]
    assert summary == "1 customer: 1 ok"
    _assert_quiet(result)
    # The CLI's own instance directory holds the run, and its dagster.yaml.
    assert (tmp_path / "data" / "dagster_home" / "dagster.yaml").exists()

    listed = _run(tmp_path, "customers", "list")
    assert listed.returncode == 0 and listed.stderr == ""
    _assert_quiet(listed)
    removed = _run(tmp_path, "customers", "remove", name, "--yes")  # deletes its Dagster partition
    assert removed.returncode == 0 and removed.stderr == "" and len(removed.stdout.splitlines()) == 1
    _assert_quiet(removed)


def test_unset_secret_key_is_one_line(pipeline, sim_tenant, tmp_path):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))

    result = _run(tmp_path, "sync", "--customer", name, "--in-process", ZUORA_PIPELINE_SECRET_KEY="")

    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ZUORA_PIPELINE_SECRET_KEY is not set")


def test_a_failed_run_is_one_line_without_its_stack_trace(pipeline, sim_tenant, tmp_path):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, name, client_secret_encrypted=config.secret_box().encrypt("wrong"))

    result = _run(tmp_path, "sync", "--customer", name, "--in-process")

    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: {name}: Zuora rejected the credentials")
    assert result.stdout.splitlines()[1].split()[:2] == [name, "FAILED"]
    _assert_quiet(result)
    # The stack trace is in the event log.
    instance = dg.DagsterInstance.from_config(str(tmp_path / "data" / "dagster_home"))
    (run,) = instance.get_runs()
    failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    assert failures and failures[0].dagster_event.step_failure_data.error.stack


def test_json_logs_are_one_parseable_object_per_line(pipeline, sim_tenant, tmp_path):
    good = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    bad = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    with write_transaction(pipeline.engine) as conn:
        customers.update(conn, bad, client_secret_encrypted=config.secret_box().encrypt("wrong"))

    result = _run(
        tmp_path,
        "--log-format",
        "json",
        "sync",
        "--all",
        "--in-process",
        "--json",
        ZUORA_PIPELINE_LOG_LEVEL="info",
    )

    assert result.returncode == 1
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert records and all({"ts", "level", "logger", "message"} <= set(r) for r in records)
    run_events = [r for r in records if r.get("run_id")]
    assert {r["customer"] for r in run_events} == {good, bad}
    failure = next(r for r in run_events if r.get("event") == "STEP_FAILURE")
    assert failure["customer"] == bad and "rejected the credentials" in failure["error"]
    assert any(r["level"] == "ERROR" and r["logger"] == console.CLI_LOGGER and bad in r["message"] for r in records)
    assert "Traceback" not in result.stderr and "Stack Trace" not in result.stderr
    assert [json.loads(line)["customer"] for line in result.stdout.splitlines()] == sorted([good, bad])


def test_dagster_lifecycle_warnings_are_not_shown_but_others_are(capsys):
    with warnings.catch_warnings():  # restores the filters and showwarning afterwards
        warnings.simplefilter("always")
        console.configure()
        warnings.warn("a preview API", dg.PreviewWarning, stacklevel=1)
        warnings.warn("a beta API", dg.BetaWarning, stacklevel=1)
        warnings.warn("something of ours", UserWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert "preview" not in err and "beta" not in err
    assert err.count("\n") == 1 and "UserWarning: something of ours" in err
