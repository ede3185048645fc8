"""``RunJsonFormatter`` in a deployment's dagster.yaml (``python_logs.dagster_handler_config``),
the route the README gives for JSON logs from run workers: each record one JSON line with the run's
customer, run id, step, event and the failure's first line, never its stack trace."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg

REPO = Path(__file__).resolve().parents[2]

PYTHON_LOGS = {
    "python_logs": {
        "dagster_handler_config": {
            "handlers": {
                "json_stderr": {
                    "class": "zuora_pipeline.defs.run_logs.RunStderrHandler",
                    "formatter": "json",
                    "level": "INFO",
                }
            },
            "formatters": {"json": {"()": "zuora_pipeline.defs.run_logs.RunJsonFormatter"}},
        }
    }
}


@dg.op
def failing_step(context) -> None:  # not annotated: Dagster checks the hint at runtime
    context.log.warning("about to fail")
    raise RuntimeError("the first line\nthe second line")


@dg.job
def failing_job() -> None:
    failing_step()


# A run worker is a process of its own whose logging nobody else configured; the tests' process
# is not (the CLI tests invoke the CLI in it, which installs its own handlers), so the run happens
# in a fresh interpreter.
_RUN = """
import dagster as dg
from zuora_pipeline_tests.defs.test_run_logs import PYTHON_LOGS, failing_job
with dg.instance_for_test(overrides=PYTHON_LOGS) as instance:
    result = failing_job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags={"dagster/partition": "acme"},
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
print(result.run_id, result.success)
"""


def test_run_records_are_json_lines_with_the_run_context():
    done = subprocess.run(
        [sys.executable, "-c", _RUN], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    run_id, success = done.stdout.split()[-2:]
    assert success == "False"
    lines = [line for line in done.stderr.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert all(r["customer"] == "acme" and r["run_id"] == run_id for r in records)
    warning = next((r for r in records if r["message"] == "about to fail"), None)
    assert warning is not None, done.stderr[-3000:]
    assert warning["level"] == "WARNING" and warning["step"] == "failing_step"
    failure = next((r for r in records if r.get("event") == "STEP_FAILURE"), None)
    assert failure is not None, done.stderr[-3000:]
    assert failure["error"].endswith("RuntimeError: the first line")
    assert "the second line" not in "\n".join(lines) and "Traceback" not in "\n".join(lines)


# What Dagster's compute-log capture does to a run process: fd 2 pointed at a file after the
# run's handlers were built. A record logged then must still reach the process's real stderr.
_CAPTURED = """
import logging, os, sys
from zuora_pipeline.defs.run_logs import RunStderrHandler
handler = RunStderrHandler()
logger = logging.Logger("t")
logger.addHandler(handler)
with open(sys.argv[1], "w") as capture:
    os.dup2(capture.fileno(), 2)
    logger.error("written while captured")
"""


def test_the_handler_writes_past_a_capture_of_stderr(tmp_path):
    capture = tmp_path / "captured.err"
    done = subprocess.run(
        [sys.executable, "-c", _CAPTURED, str(capture)], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stderr == "written while captured\n"
    assert capture.read_text() == ""


def test_the_handler_uses_a_stand_in_stderr_as_it_is(monkeypatch):
    import io

    from zuora_pipeline.defs.run_logs import RunStderrHandler

    stand_in = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stand_in)
    assert RunStderrHandler().stream is stand_in
