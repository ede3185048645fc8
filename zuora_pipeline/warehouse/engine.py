"""Engines for the warehouse URL, configured per dialect.

The warehouse is PostgreSQL (psycopg 3) or SQLite; any other URL is refused with one line that
says which URLs work, before SQLAlchemy looks for a driver.

SQLite gets WAL and a busy timeout so the Dagster UI and the CLI can read while a run writes.
PostgreSQL URLs must name their driver: SQLAlchemy 2.1 maps bare ``postgresql://`` to psycopg 3,
which is what we ship, but dagster-postgres ships psycopg2, so we say which one we mean.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url


class RawJSON(str):
    """Already-serialized JSON text: the engine's serializer passes it through unchanged.

    Exports arrive as bytes; wrapping their text in RawJSON stores them in a JSON column
    without decoding and re-encoding tens of megabytes per sync.
    """


def _serialize_json(value: Any) -> str:
    if isinstance(value, RawJSON):
        return str(value)
    # Two JSON columns per task row: json.dumps was a top cost of the tasks step.
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:  # non-str keys, ints beyond 64 bits: the json module copes
        pass
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _deserialize_json(text: str | bytes) -> Any:
    return orjson.loads(text)


SUPPORTED_URLS = "postgresql+psycopg://USER@HOST[:PORT]/DATABASE for PostgreSQL or sqlite:///PATH for SQLite"
# The drivers we ship, by the names a URL may give them.
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
}


class DatabaseUrlError(ValueError):
    """A warehouse URL that is malformed or names a database or driver we do not support."""


def _shown(url: str) -> str:
    """The URL for a message: its password hidden; an unparseable one only if it cannot hold one."""
    try:
        return repr(make_url(url).render_as_string(hide_password=True))
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        return repr(url) if "@" not in url and len(url) <= 100 else "the given URL"


def normalize_url(url: str) -> str:
    """The URL with its driver named (bare ``postgresql://`` is psycopg 3); DatabaseUrlError when
    it is not a PostgreSQL or SQLite URL."""
    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseUrlError(f"warehouse URL {_shown(url)} is not a database URL: use {SUPPORTED_URLS}") from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise DatabaseUrlError(
            f"warehouse URL {_shown(url)} is not supported ({parsed.drivername}): use {SUPPORTED_URLS}"
        )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def create_warehouse_engine(url: str) -> sa.Engine:
    url = normalize_url(url)
    backend = make_url(url).get_backend_name()
    kwargs: dict[str, Any] = {
        "json_serializer": _serialize_json,
        "json_deserializer": _deserialize_json,
        "future": True,
    }
    if backend == "sqlite":
        kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = 5
        kwargs["max_overflow"] = 10
    engine = sa.create_engine(url, **kwargs)
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN; we emit it ourselves so that a
        # transaction that will write takes the lock up front (no upgrade deadlocks).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")


_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: str) -> sa.Engine:
    """One engine (and connection pool) per URL per process."""
    key = normalize_url(url)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = create_warehouse_engine(key)
        return engine


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
