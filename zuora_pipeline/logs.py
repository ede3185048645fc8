"""Structured (JSON Lines) log records: one JSON object per line, for log collectors.

Shared by the CLI's handler and the in-process runs' JSON run logger, so both write the same keys:
``ts`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, then any of ``customer``, ``run_id``,
``job``, ``step``, ``event``, ``error`` that the record carries. A record's exception is reduced to its type
and first line (``error``): stack traces stay in the Dagster event log.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

TEXT = "text"
JSON = "json"
LOG_FORMATS = (TEXT, JSON)
EXTRA_KEYS = ("customer", "run_id", "job", "step", "event", "error")


def first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": first_line(record.getMessage()),
        }
        for key in EXTRA_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if "error" not in entry and record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            entry["error"] = f"{type(exc).__name__}: {first_line(str(exc))}"
        return json.dumps(entry, default=str)
