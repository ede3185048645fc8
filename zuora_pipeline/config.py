"""The process environment: the only module that reads it.

The entry points use it: ``definitions.py`` (through ``defs/resources.py``, which turns each
variable into a resource field shown on the UI's Resources page), the CLI and the bench. The layers
below ``defs/`` (``zuora/``, ``warehouse/``, ``logic/``, ``sync/``, ``audit/``, ``crypto``) never read the
environment: they take these values as arguments.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from zuora_pipeline.crypto import SECRET_KEY_ENV, SecretBox
from zuora_pipeline.zuora.urls import ALLOWED_HOSTS_ENV, parse_allowed_hosts

DATABASE_URL_ENV = "ZUORA_PIPELINE_DATABASE_URL"
DATA_DIR_ENV = "ZUORA_PIPELINE_DATA_DIR"
CUSTOMERS_PER_RUN_ENV = "ZUORA_PIPELINE_CUSTOMERS_PER_RUN"
# Where the workflow browser (`zuora-pipeline browse`) is reached, e.g. https://zuora.example.com:
# Dagster asset metadata links each customer to $ZUORA_PIPELINE_BROWSER_URL/customers/<name>.
BROWSER_URL_ENV = "ZUORA_PIPELINE_BROWSER_URL"
# The Dagster UI's base URL: the browser links each customer to its partition there.
DAGSTER_UI_URL_ENV = "ZUORA_PIPELINE_DAGSTER_UI_URL"
# Customers per run of the hourly schedule and of backfills. Measured on a 2-core machine with
# 50 customers (`zuora-pipeline bench fleet`): see the README's Performance section.
DEFAULT_CUSTOMERS_PER_RUN = 25
STALE_AFTER_ENV = "ZUORA_PIPELINE_STALE_AFTER_MINUTES"
# Two missed hourly syncs: a customer is stale (the fleet check warns, an alert goes out).
DEFAULT_STALE_AFTER = timedelta(hours=2)

__all__ = [
    "ALLOWED_HOSTS_ENV",
    "BROWSER_URL_ENV",
    "CUSTOMERS_PER_RUN_ENV",
    "DAGSTER_UI_URL_ENV",
    "DATABASE_URL_ENV",
    "DATA_DIR_ENV",
    "DEFAULT_CUSTOMERS_PER_RUN",
    "DEFAULT_STALE_AFTER",
    "SECRET_KEY_ENV",
    "STALE_AFTER_ENV",
    "allowed_hosts",
    "browser_url",
    "customers_per_run",
    "dagster_ui_url",
    "data_dir",
    "database_url",
    "default_database_url",
    "is_set",
    "secret_box",
    "secret_key",
    "stale_after",
    "warehouse_kind",
]


def is_set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def data_dir() -> Path:
    """The local data directory (SQLite warehouse, demo files); created on first use."""
    raw = os.environ.get(DATA_DIR_ENV)
    path = Path(raw) if raw else Path.home() / ".zuora_pipeline"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    """The zero-set-up warehouse: a SQLite file in the data directory."""
    return f"sqlite:///{data_dir() / 'warehouse.sqlite'}"


def database_url() -> str:
    """The warehouse URL: the env var, else the default SQLite file."""
    return os.environ.get(DATABASE_URL_ENV, "").strip() or default_database_url()


def customers_per_run() -> int:
    """How many customers one run of the schedule or of a backfill syncs (1-100); read when the
    code location loads, since a backfill policy is part of the definitions."""
    raw = os.environ.get(CUSTOMERS_PER_RUN_ENV, "").strip()
    if not raw:
        return DEFAULT_CUSTOMERS_PER_RUN
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 100:
        raise ValueError(f"{CUSTOMERS_PER_RUN_ENV} must be a whole number from 1 to 100, got {raw!r}")
    return value


def secret_key() -> str | None:
    return os.environ.get(SECRET_KEY_ENV, "").strip() or None


def secret_box() -> SecretBox:
    """The box of ZUORA_PIPELINE_SECRET_KEY; a clear error if it is unset or malformed."""
    return SecretBox.from_key(secret_key())


def allowed_hosts() -> tuple[str, ...]:
    return parse_allowed_hosts(os.environ.get(ALLOWED_HOSTS_ENV, ""))


def stale_after() -> timedelta:
    """How long an active customer may go without a successful sync before it is stale."""
    raw = os.environ.get(STALE_AFTER_ENV, "").strip()
    if not raw:
        return DEFAULT_STALE_AFTER
    try:
        minutes = float(raw)
    except ValueError:
        minutes = 0
    if minutes <= 0:
        raise ValueError(f"{STALE_AFTER_ENV} must be a positive number of minutes, got {raw!r}")
    return timedelta(minutes=minutes)


def warehouse_kind(url: str) -> str:
    """The warehouse's kind as the Dagster catalog shows it."""
    return "postgres" if url.startswith("postgresql") else "sqlite"


def browser_url() -> str | None:
    """The workflow browser's base URL, if one is deployed."""
    return os.environ.get(BROWSER_URL_ENV, "").strip().rstrip("/") or None


def dagster_ui_url() -> str | None:
    """The Dagster UI's base URL (no trailing slash), if configured."""
    return os.environ.get(DAGSTER_UI_URL_ENV, "").strip().rstrip("/") or None
