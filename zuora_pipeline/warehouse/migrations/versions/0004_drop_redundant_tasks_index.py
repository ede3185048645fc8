"""Drop ``ix_tasks_workflow_id``: the unique index on (workflow_id, zuora_id) already serves every
lookup by workflow_id (its leading column), so the second index only cost each task write.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tasks_workflow_id", table_name="tasks")


def downgrade() -> None:
    op.create_index("ix_tasks_workflow_id", "tasks", ["workflow_id"])
