"""History and change log, the trigram search index, analyst views.

Revision ID: 0003
Revises: 0002

Every existing workflow gets its current state as revision 1 (run ids NULL), so the first sync
after the upgrade has a base to diff against and reports real changes, not a wave of "created".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TS = sa.DateTime(timezone=True)

# Views for analysts: names that explain themselves, customer names instead of surrogate keys, no
# hashes, no staging tables, never the encrypted secret. Plain SQL that both dialects accept.
_VIEWS = {
    "analyst_workflows": """
        SELECT c.name AS customer, c.display_name AS customer_display_name,
               w.zuora_id AS workflow_id, w.name AS workflow_name, w.description, w.state,
               w.active_version AS zuora_version,
               (SELECT count(*) FROM tasks t WHERE t.workflow_id = w.id) AS task_count,
               w.created_on AS created_in_zuora_at, w.updated_on AS updated_in_zuora_at,
               w.last_synced_at, w.deleted_at, w.deleted_at IS NOT NULL AS is_deleted
        FROM workflows w JOIN customers c ON c.id = w.customer_id""",
    "analyst_tasks": """
        SELECT c.name AS customer, w.zuora_id AS workflow_id, w.name AS workflow_name,
               t.zuora_id AS task_id, t.name AS task_name, t.task_type AS task_family,
               t.action_type, t.call_type, t.object AS zuora_object, t.priority,
               t.parent_task_id, t.data AS parameters,
               w.deleted_at IS NOT NULL AS workflow_deleted, t.updated_at AS synced_at
        FROM tasks t JOIN workflows w ON w.id = t.workflow_id JOIN customers c ON c.id = w.customer_id""",
    "analyst_workflow_revisions": """
        SELECT c.name AS customer, r.workflow_zuora_id AS workflow_id, r.revision,
               r.name AS workflow_name, r.state, r.active_version AS zuora_version, r.task_count,
               r.first_seen_at, r.first_seen_run_id, r.last_seen_at, r.last_seen_run_id,
               r.superseded_at, r.superseded_at IS NULL AS is_current, r.json_export AS export
        FROM workflow_revisions r JOIN customers c ON c.id = r.customer_id""",
    "analyst_workflow_changes": """
        SELECT c.name AS customer, h.workflow_zuora_id AS workflow_id, h.workflow_name, h.change,
               h.revision, h.previous_revision, h.summary, h.tasks_added, h.tasks_removed,
               h.tasks_changed, h.linkages_changed, h.settings_changed, h.run_id, h.changed_at
        FROM workflow_changes h JOIN customers c ON c.id = h.customer_id""",
}


def upgrade() -> None:
    op.create_table(
        "workflow_revisions",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("customer_id", _BIG_ID, nullable=False),
        sa.Column("workflow_zuora_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("active_version", sa.Text(), nullable=True),
        sa.Column("export_hash", sa.String(length=64), nullable=True),
        sa.Column("json_export", _JSON, nullable=True),
        sa.Column("task_count", sa.Integer(), nullable=True),
        sa.Column("first_seen_run_id", sa.String(length=64), nullable=True),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("last_seen_run_id", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("superseded_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_workflow_revisions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_revisions")),
        sa.UniqueConstraint(
            "customer_id",
            "workflow_zuora_id",
            "revision",
            name=op.f("uq_workflow_revisions_customer_id_workflow_zuora_id_revision"),
        ),
    )
    op.create_table(
        "workflow_changes",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("customer_id", _BIG_ID, nullable=False),
        sa.Column("workflow_zuora_id", sa.BigInteger(), nullable=False),
        sa.Column("workflow_name", sa.Text(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("previous_revision", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("tasks_added", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tasks_removed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tasks_changed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("linkages_changed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("settings_changed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("changed_at", _TS, nullable=False),
        sa.CheckConstraint(
            "change IN ('created', 'updated', 'deleted', 'restored')", name=op.f("ck_workflow_changes_change")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_workflow_changes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_changes")),
    )
    op.create_index("ix_workflow_changes_customer_id_changed_at", "workflow_changes", ["customer_id", "changed_at"])
    op.create_index("ix_workflow_changes_changed_at", "workflow_changes", ["changed_at"])

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        task_count = (
            "CASE WHEN jsonb_typeof(w.json_export -> 'tasks') = 'array' "
            "THEN jsonb_array_length(w.json_export -> 'tasks') END"
        )
        # Trigram index behind `search`: substring (ILIKE '%...%') matches of a task's name and
        # parameters. pg_trgm is a trusted extension: the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_tasks_search_text ON tasks USING gin "
            "((COALESCE(name, '') || ' ' || COALESCE(CAST(data AS TEXT), '')) gin_trgm_ops)"
        )
    else:
        task_count = "json_array_length(w.json_export, '$.tasks')"
    op.execute(
        "INSERT INTO workflow_revisions (customer_id, workflow_zuora_id, revision, name, description, state, "
        "active_version, export_hash, json_export, task_count, first_seen_run_id, first_seen_at, "
        "last_seen_run_id, last_seen_at) "
        "SELECT w.customer_id, w.zuora_id, 1, w.name, w.description, w.state, w.active_version, w.export_hash, "
        f"w.json_export, {task_count}, NULL, w.updated_at, NULL, COALESCE(w.last_synced_at, w.updated_at) "
        "FROM workflows w"
    )
    for name, select in _VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {select}")


def downgrade() -> None:
    for name in reversed(list(_VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tasks_search_text")
    op.drop_index("ix_workflow_changes_changed_at", table_name="workflow_changes")
    op.drop_index("ix_workflow_changes_customer_id_changed_at", table_name="workflow_changes")
    op.drop_table("workflow_changes")
    op.drop_table("workflow_revisions")
