"""What the CLI process writes to the terminal besides its own output: its logs, and no Dagster noise.

Text mode (the default): Dagster's Python loggers and its lifecycle warnings (PreviewWarning,
BetaWarning, SupersessionWarning, deprecations raised inside Dagster) stay off stdout and stderr;
other log records at ``--log-level`` and above are one line each on stderr. JSON mode
(``--log-format json`` or ZUORA_PIPELINE_LOG_FORMAT=json): every log record, Dagster's included,
is one JSON object per line on stderr, and so are the CLI's own error lines.
"""

from __future__ import annotations

import logging
import sys
import warnings
from dataclasses import dataclass
from typing import Any, TextIO

from zuora_pipeline.logs import JSON, TEXT, JsonLineFormatter

LOG_FORMAT_ENV = "ZUORA_PIPELINE_LOG_FORMAT"
LOG_LEVEL_ENV = "ZUORA_PIPELINE_LOG_LEVEL"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
DEFAULT_LOG_LEVEL = "warning"
CLI_LOGGER = "zuora_pipeline.cli"
_DAGSTER_PACKAGES = ("dagster", "dagster_shared", "dagster_pipes", "dagster_postgres", "dagster_graphql")
_TELEMETRY_LOGGER = "dagster_telemetry_logger"  # usage statistics, not log content: never shown


@dataclass(frozen=True)
class LogSettings:
    format: str = TEXT
    level: str = DEFAULT_LOG_LEVEL

    @property
    def json(self) -> bool:
        return self.format == JSON


_current: list[LogSettings] = [LogSettings()]  # this process's settings, set by `configure`


def settings() -> LogSettings:
    return _current[0]


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at emit time (click's test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class _NotDagster(logging.Filter):
    def __init__(self, *, text: bool) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == _TELEMETRY_LOGGER:
            return False
        return not (self.text and record.name.split(".")[0] in _DAGSTER_PACKAGES)


def _from_dagster(category: type[Warning], filename: str) -> bool:
    if category.__module__.split(".")[0] in _DAGSTER_PACKAGES:
        return True
    return any(f"/{package}/" in filename.replace("\\", "/") for package in _DAGSTER_PACKAGES)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    if _from_dagster(category, filename) and not settings().json:
        return
    logging.getLogger("py.warnings").warning("%s: %s (%s:%s)", category.__name__, message, filename, lineno)


def configure(log_format: str = TEXT, log_level: str = DEFAULT_LOG_LEVEL) -> LogSettings:
    """Install the CLI's logging for this process; idempotent (the tests invoke the CLI many times)."""
    _current[0] = LogSettings(log_format, log_level.lower())
    current = _current[0]
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    if current.json:
        handler.setFormatter(JsonLineFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_NotDagster(text=not current.json))
    handler.setLevel(current.level.upper())
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, handler.level))
    # In JSON mode Dagster's own records (e.g. the missing-dagster.yaml notice) are logged at the
    # chosen level like any other; in text mode the filter above keeps them off the terminal.
    logging.getLogger("dagster").setLevel(current.level.upper())
    warnings.showwarning = _show_warning
    return current


def error(message: str, **fields: Any) -> None:
    """One failure, one line on stderr: ``Error: ...``, or a JSON record in JSON mode."""
    if settings().json:
        logging.getLogger(CLI_LOGGER).error(message, extra=fields)
    else:
        # sys.stderr as it is now: while a progress line is shown, rich has it print above it.
        print(f"Error: {message}", file=sys.stderr, flush=True)


def notice(message: str) -> None:
    """What the user should know about the output (rows left out, nothing found): one line on
    stderr, so stdout keeps only the answer; a WARNING record in JSON mode."""
    if settings().json:
        logging.getLogger(CLI_LOGGER).warning(message)
    else:
        print(message, file=sys.stderr, flush=True)
