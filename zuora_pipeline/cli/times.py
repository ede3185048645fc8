"""Times as the CLI's tables show them: UTC, to the second, with the zone spelled out."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_text(value: datetime) -> str:
    """``2026-05-01 09:30:00 UTC``. A naive value is UTC already (SQLite returns timestamps
    without their zone)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%d %H:%M:%S UTC")
