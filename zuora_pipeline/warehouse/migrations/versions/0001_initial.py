"""Initial schema: customers, workflows, tasks, raw landing tables, sync runs.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from zuora_pipeline.warehouse.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The first revision creates the tables from the metadata as it stood at this revision; later
# revisions must spell out their own operations (never edit this one after release).
_TABLES = ["customers", "workflows", "tasks", "raw_workflow_pages", "raw_workflow_exports", "sync_runs"]


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in _TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(bind, tables=[metadata.tables[name] for name in reversed(_TABLES)])
