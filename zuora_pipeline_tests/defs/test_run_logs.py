"""``RunJsonFormatter`` in a deployment's dagster.yaml (``python_logs.dagster_handler_config``),
the route the README gives for JSON logs from run workers: each record one JSON line with the run's
customer, run id, step, event and the failure's first line, never its stack trace."""

from __future__ import annotations

import json

import dagster as dg

PYTHON_LOGS = {
    "python_logs": {
        "dagster_handler_config": {
            "handlers": {
                "json_stderr": {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stderr",
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


def test_run_records_are_json_lines_with_the_run_context(capfd):
    with dg.instance_for_test(overrides=PYTHON_LOGS) as instance:
        result = failing_job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={"dagster/partition": "acme"},
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
    assert not result.success
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert all(r["customer"] == "acme" and r["run_id"] == result.run_id for r in records)
    warning = next(r for r in records if r["message"] == "about to fail")
    assert warning["level"] == "WARNING" and warning["step"] == "failing_step"
    failure = next(r for r in records if r.get("event") == "STEP_FAILURE")
    assert failure["error"].endswith("RuntimeError: the first line")
    assert "the second line" not in "\n".join(lines) and "Traceback" not in "\n".join(lines)
