"""How an in-process run (``sync --in-process``, ``tasks reextract``) logs to the terminal.

Text mode: the run's console logger only takes CRITICAL records, so step failures and their
stack traces stay in the Dagster event log (the UI's run page shows them) and the CLI prints one
line per customer itself. JSON mode: ``json_run_logger`` writes each record as one JSON line on
stderr (keys of ``zuora_pipeline.logs``), with the customer, run id, step and event type, and a
failure's first line instead of its stack trace.

Both JSON routes write through ``RunStderrHandler``: while a run executes, Dagster's compute-log
capture points file descriptor 2 at a file that a ``tail -F`` process copies back to the terminal,
and that process is stopped when the capture ends, so the last lines of a run (its STEP_FAILURE
among them) were sometimes never shown. The handler writes to a duplicate of the descriptor taken
before the capture starts (Dagster builds a run's loggers and handlers before it captures), so
every record reaches the real stderr at once; the event log and the UI keep every event anyway.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

import dagster as dg

from zuora_pipeline.defs.keys import PARTITION_TAG
from zuora_pipeline.logs import JSON, JsonLineFormatter, first_line

JSON_LOGGER = "json"


class RunJsonFormatter(JsonLineFormatter):
    """A run's log records as JSON lines with their run context. Also usable by a deployment's run
    workers: ``python_logs.dagster_handler_config`` in dagster.yaml (see the README)."""

    def format(self, record: logging.LogRecord) -> str:
        # Dagster's log manager attaches the run's context to every record it hands a run logger.
        meta: dict[str, Any] = getattr(record, "dagster_meta", None) or {}
        record.msg, record.args = meta.get("orig_message", record.getMessage()), ()
        record.run_id = meta.get("run_id")
        record.job = meta.get("job_name")
        record.step = meta.get("step_key")
        record.customer = (meta.get("job_tags") or {}).get(PARTITION_TAG)
        event: dg.DagsterEvent | None = meta.get("dagster_event")
        record.event = event.event_type_value if event is not None else None
        failure = event.step_failure_data.error if event is not None and event.is_step_failure else None
        while failure is not None and failure.cause is not None:  # the user code's exception
            failure = failure.cause
        record.error = first_line(failure.message) if failure is not None else None
        return super().format(record)


# One duplicate per distinct file behind fd 2 (device, inode): a process that builds many runs'
# handlers (the CLI's ``sync --all --in-process``, dictConfig rebuilding them) shares it.
_DUPLICATES: dict[tuple[int, int], TextIO] = {}


def _stderr_outside_capture() -> TextIO:
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a stand-in stream (a test runner's): no capture
        return sys.stderr
    status = os.fstat(fd)
    key = (status.st_dev, status.st_ino)
    if key not in _DUPLICATES:
        _DUPLICATES[key] = os.fdopen(os.dup(fd), "w", buffering=1, encoding="utf-8", errors="replace")
    return _DUPLICATES[key]


class RunStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The process's stderr as it was before Dagster's compute-log capture took it over. For a
    deployment's ``dagster.yaml`` (``class: zuora_pipeline.defs.run_logs.RunStderrHandler``)."""

    def __init__(self, level: int | str = logging.NOTSET) -> None:
        super().__init__(_stderr_outside_capture())
        self.setLevel(level)


@dg.logger(
    config_schema={"log_level": dg.Field(str, is_required=False, default_value="INFO")},
    description="One JSON object per line on stderr: ts, level, logger, message, customer, run_id, step, event.",
)
def json_run_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("zuora_pipeline.run", init_context.logger_config["log_level"].upper())
    handler = RunStderrHandler()
    handler.setFormatter(RunJsonFormatter())
    logger.addHandler(handler)
    return logger


def with_run_logger(job: dg.JobDefinition, log_format: str) -> dg.JobDefinition:
    """The job with the JSON run logger available beside its own loggers."""
    if log_format != JSON:
        return job
    return job.with_logger_defs({**job.loggers, JSON_LOGGER: json_run_logger})


def loggers_run_config(log_format: str, log_level: str) -> dict[str, Any]:
    if log_format == JSON:
        return {"loggers": {JSON_LOGGER: {"config": {"log_level": log_level.upper()}}}}
    return {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
