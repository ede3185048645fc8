"""Customers: why a customer is paused, and the tenant's own concurrency limit.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a CHECK constraint to an existing table in place.
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("paused_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("max_concurrency", sa.Integer(), nullable=True))
        batch.create_check_constraint("max_concurrency", "max_concurrency IS NULL OR max_concurrency BETWEEN 1 AND 200")
    # Customers paused before this revision were paused for their last error.
    op.execute("UPDATE customers SET paused_reason = last_sync_error WHERE sync_status = 'paused'")


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_constraint("ck_customers_max_concurrency", type_="check")
        batch.drop_column("max_concurrency")
        batch.drop_column("paused_reason")
