"""The trigram index behind ``search`` moves from each task to each workflow.

``workflows.tasks_search_text`` holds the search texts of the workflow's tasks joined by spaces
(written with the tasks); its pg_trgm GIN index replaces ``ix_tasks_search_text``. Maintaining the
per-task index was half the cost of loading tasks: the tasks of one workflow share most of their
trigrams, so the per-workflow index has about a tenth of the entries. Existing rows get their text
from the tasks already stored.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TASK_TEXT = "COALESCE(t.name, '') || ' ' || COALESCE(CAST(t.data AS TEXT), '')"


def upgrade() -> None:
    op.add_column("workflows", sa.Column("tasks_search_text", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        joined = f"string_agg({_TASK_TEXT}, ' ')"
    else:
        joined = f"group_concat({_TASK_TEXT}, ' ')"
    op.execute(
        f"UPDATE workflows SET tasks_search_text = (SELECT {joined} FROM tasks t WHERE t.workflow_id = workflows.id)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tasks_search_text")
        op.execute(
            "CREATE INDEX ix_workflows_tasks_search_text ON workflows USING gin (tasks_search_text gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_workflows_tasks_search_text")
        op.execute(
            "CREATE INDEX ix_tasks_search_text ON tasks USING gin "
            "((COALESCE(name, '') || ' ' || COALESCE(CAST(data AS TEXT), '')) gin_trgm_ops)"
        )
    with op.batch_alter_table("workflows") as batch:
        batch.drop_column("tasks_search_text")
