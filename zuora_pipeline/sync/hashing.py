"""Canonical hashes: what "changed" means for a list entry, an export and a warehouse row."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any


def _canonical(value: Any) -> bytes:
    # Sorted keys and fixed separators: the same document always hashes the same, whatever
    # order Zuora (or a JSONB round trip) puts its keys in.
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    ).encode("utf-8")


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def digest(value: Any) -> str:
    return hashlib.sha256(_canonical(value)).hexdigest()


def export_hash(export: dict[str, Any]) -> str:
    return digest(export)
