"""The process environment: the only module that reads it.

The entry points use it: ``definitions.py`` (through ``defs/resources.py``, which turns each
variable into a resource field shown on the UI's Resources page), the CLI and the bench. The layers
below ``defs/`` (``zuora/``, ``warehouse/``, ``sync/``, ``steps/``, ``crypto``) never read the
environment: they take these values as arguments.
"""

from __future__ import annotations

import os
from pathlib import Path

from zuora_pipeline.crypto import SECRET_KEY_ENV, SecretBox
from zuora_pipeline.zuora.urls import ALLOWED_HOSTS_ENV, parse_allowed_hosts

DATABASE_URL_ENV = "ZUORA_PIPELINE_DATABASE_URL"
DATA_DIR_ENV = "ZUORA_PIPELINE_DATA_DIR"

__all__ = [
    "ALLOWED_HOSTS_ENV",
    "DATABASE_URL_ENV",
    "DATA_DIR_ENV",
    "SECRET_KEY_ENV",
    "allowed_hosts",
    "data_dir",
    "database_url",
    "default_database_url",
    "is_set",
    "secret_box",
    "secret_key",
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


def secret_key() -> str | None:
    return os.environ.get(SECRET_KEY_ENV, "").strip() or None


def secret_box() -> SecretBox:
    """The box of ZUORA_PIPELINE_SECRET_KEY; a clear error if it is unset or malformed."""
    return SecretBox.from_key(secret_key())


def allowed_hosts() -> tuple[str, ...]:
    return parse_allowed_hosts(os.environ.get(ALLOWED_HOSTS_ENV, ""))
