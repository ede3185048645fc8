"""Process configuration read from the environment (DESIGN.md §2).

One place reads the environment so that every entry point (CLI, Dagster code location, bench)
agrees on where the warehouse is and which key decrypts secrets.
"""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_ENV = "ZUORA_PIPELINE_DATABASE_URL"
SECRET_KEY_ENV = "ZUORA_PIPELINE_SECRET_KEY"
ALLOWED_HOSTS_ENV = "ZUORA_PIPELINE_ALLOWED_HOSTS"
DATA_DIR_ENV = "ZUORA_PIPELINE_DATA_DIR"


def data_dir() -> Path:
    """The local data directory (SQLite warehouse, demo files); created on first use."""
    raw = os.environ.get(DATA_DIR_ENV)
    path = Path(raw) if raw else Path.home() / ".zuora_pipeline"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """The warehouse URL: the env var, else a zero-set-up SQLite file in the data directory."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{data_dir() / 'warehouse.sqlite'}"


def secret_key() -> str | None:
    value = os.environ.get(SECRET_KEY_ENV, "").strip()
    return value or None
