"""``sync_runs.retryable``: whether a failed sync's error would go away by waiting.

A run syncing several customers retries its step only for the customers whose failure was
transient; this column is how a retry attempt knows which ones those were. NULL for syncs that
did not fail (and for those recorded before this revision).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("retryable", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("retryable")
