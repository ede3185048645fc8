"""PostgreSQL compresses the export columns with lz4 instead of pglz (new values only).

An export (6-14 KB of JSON) is stored compressed, and pglz is slow to compress: copying 1,908
exports of 13.7 KB on average into ``workflows.json_export`` (the first sync's export copy) took
0.86-1.05 s with pglz and 0.53-0.67 s with lz4 (PostgreSQL 15, the statement alone). The other
columns that hold whole exports follow: the raw landing and staging text and the revisions' copy.
Servers built without lz4 (or older than 14) keep pglz: nothing changes there. SQLite has no
such setting.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

EXPORT_COLUMNS = (
    ("workflows", "json_export"),
    ("workflow_revisions", "json_export"),
    ("raw_workflow_exports", "content"),
    ("raw_export_staging", "content"),
)


def _lz4_available(bind: sa.engine.Connection) -> bool:
    enumvals = bind.execute(
        sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar()
    return bool(enumvals) and "lz4" in str(enumvals)


def _set_compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _lz4_available(bind):
        return
    for table, column in EXPORT_COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("pglz")
