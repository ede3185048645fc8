"""An engine over the warehouse that cannot write: what the read-only workflow browser uses.

PostgreSQL: every session starts with ``default_transaction_read_only`` on, and SQLAlchemy opens
each transaction ``READ ONLY`` as well, so an INSERT, UPDATE, DELETE or DDL fails with
``ReadOnlySqlTransaction`` whatever the role may do; a statement that runs longer than
``STATEMENT_TIMEOUT_MS`` is cancelled, so one page cannot hold the server. SQLite: the file is
opened with ``mode=ro`` (the operating system's read-only open) and ``PRAGMA query_only``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from zuora_pipeline.warehouse.engine import _deserialize_json, normalize_url

STATEMENT_TIMEOUT_MS = 10_000
POOL_SIZE = 8  # the browser's worker threads that may query at once


def create_readonly_engine(url: str) -> sa.Engine:
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite(parsed)
    engine = sa.create_engine(
        parsed,
        json_deserializer=_deserialize_json,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=POOL_SIZE,
        connect_args={
            "options": f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS}",
            "application_name": "zuora-pipeline browse",
            # No server-side prepared statements: psycopg prepares a query after its 5th run and
            # PostgreSQL may then plan it generically, blind to the search text. Measured on
            # 400,000 tasks: a search page's queries went from 10 ms to 300 ms that way.
            "prepare_threshold": None,
        },
    )
    return engine.execution_options(postgresql_readonly=True)


def _sqlite(parsed: sa.URL) -> sa.Engine:
    database = parsed.database
    if not database or database == ":memory:":
        raise ValueError("the read-only browser needs a SQLite file, not an in-memory database")
    # pysqlite opens "file:...?mode=ro" as a URI: the file is opened read-only by the OS.
    uri = f"sqlite:///file:{database}?mode=ro&uri=true"
    engine = sa.create_engine(
        uri, json_deserializer=_deserialize_json, connect_args={"timeout": 60, "check_same_thread": False}
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    return engine
