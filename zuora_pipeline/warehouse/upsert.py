"""INSERT ... ON CONFLICT for both dialects, sent in batches.

SQLAlchemy 2's "insertmanyvalues" turns one ``execute(stmt, rows)`` into multi-row INSERTs of up
to ``batch_size`` rows, so the number of statements grows with batches, not with rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

BATCH_SIZE = 1000


def dialect_insert(conn: sa.Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported warehouse dialect {conn.dialect.name}")


def upsert(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Iterable[str],
    update: Iterable[str] | None = None,
    overrides: dict[str, Any] | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Insert ``rows``; on a key conflict update ``update`` columns (all non-key columns present
    in the rows by default) from the new values, with ``overrides`` (SQL expressions built from
    ``stmt.excluded``-free terms) taking precedence. Returns the number of rows sent."""
    if not rows:
        return 0
    keys = list(keys)
    stmt = dialect_insert(conn, table)
    columns = list(update) if update is not None else [c for c in rows[0] if c not in keys]
    set_ = {column: stmt.excluded[column] for column in columns}
    set_.update(overrides or {})
    if set_:
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=set_)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    for start in range(0, len(rows), batch_size):
        conn.execute(
            stmt.execution_options(insertmanyvalues_page_size=batch_size),
            list(rows[start : start + batch_size]),
        )
    return len(rows)
