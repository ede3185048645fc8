"""The warehouse tables as SQLAlchemy Core metadata.

The same metadata drives the Alembic migrations and every query, on SQLite and PostgreSQL alike.
JSON columns are JSONB on PostgreSQL so analysts can query exports; raw landing columns are text
because they hold the bytes exactly as Zuora sent them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTCDateTime = sa.DateTime(timezone=True)
# Zuora ids are integers that may outgrow 32 bits; SQLite maps BigInteger primary keys badly,
# so surrogate keys stay Integer there and BigInteger on PostgreSQL.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _now() -> sa.sql.elements.ColumnElement:
    return sa.func.current_timestamp()


customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(255)),
    sa.Column("base_url", sa.String(255), nullable=False),
    sa.Column("client_id", sa.String(255), nullable=False),
    sa.Column("client_secret_encrypted", sa.Text, nullable=False),
    sa.Column("sync_status", sa.String(16), nullable=False, server_default="active"),
    # Set when the base URL, client id or secret change: the sensor syncs the customer again.
    sa.Column("credentials_updated_at", UTCDateTime),
    sa.Column("last_synced_at", UTCDateTime),
    sa.Column("last_sync_status", sa.String(16)),
    sa.Column("last_sync_error", sa.Text),
    # Why the customer is paused (bad credentials, or an operator's `customers pause`); shown in
    # `customers list` and in the Dagster UI. Cleared by `customers resume`.
    sa.Column("paused_reason", sa.Text),
    # Requests in flight this tenant allows us (Zuora limits concurrency per tenant); NULL means
    # the `zuora` resource's default.
    sa.Column("max_concurrency", sa.Integer),
    sa.Column("created_at", UTCDateTime, nullable=False, server_default=_now()),
    sa.Column("updated_at", UTCDateTime, nullable=False, server_default=_now()),
    sa.CheckConstraint("sync_status IN ('active', 'paused')", name="sync_status"),
    sa.CheckConstraint("max_concurrency IS NULL OR max_concurrency BETWEEN 1 AND 200", name="max_concurrency"),
)

workflows = sa.Table(
    "workflows",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("customer_id", BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("zuora_id", sa.BigInteger, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("active_version", sa.Text),
    sa.Column("created_on", UTCDateTime),
    sa.Column("updated_on", UTCDateTime),
    sa.Column("json_export", JSONDoc),
    sa.Column("export_hash", sa.String(64)),
    # The list entry as Zuora sent it: what the row was normalized from.
    sa.Column("list_entry", JSONDoc),
    # Hash of every normalized field plus export_hash: an unchanged hash means nothing to write.
    sa.Column("row_hash", sa.String(64)),
    # export_hash the tasks were last extracted from: tasks are re-extracted only when it differs.
    sa.Column("tasks_export_hash", sa.String(64)),
    sa.Column("last_synced_at", UTCDateTime),
    sa.Column("deleted_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False, server_default=_now()),
    sa.Column("updated_at", UTCDateTime, nullable=False, server_default=_now()),
    sa.UniqueConstraint("customer_id", "zuora_id"),
    sa.Index("ix_workflows_customer_id", "customer_id"),
    sa.Index("ix_workflows_zuora_id", "zuora_id"),
    sa.Index("ix_workflows_state", "state"),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("workflow_id", BigId, sa.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False),
    sa.Column("zuora_id", sa.BigInteger, nullable=False),
    sa.Column("name", sa.Text),
    # Zuora-sourced text has no documented length: Text, so PostgreSQL never rejects a value
    # that SQLite would have accepted.
    sa.Column("task_type", sa.Text),
    sa.Column("action_type", sa.Text),
    sa.Column("call_type", sa.Text),
    sa.Column("object", sa.Text),
    sa.Column("object_id", sa.Text),
    sa.Column("parent_task_id", sa.BigInteger),
    sa.Column("priority", sa.Text),
    sa.Column("data", JSONDoc),
    sa.Column("workflow_task_json", JSONDoc),
    sa.Column("created_at", UTCDateTime, nullable=False, server_default=_now()),
    sa.Column("updated_at", UTCDateTime, nullable=False, server_default=_now()),
    # Also the index of lookups by workflow_id (its leading column): no separate one.
    sa.UniqueConstraint("workflow_id", "zuora_id"),
    sa.Index("ix_tasks_task_type", "task_type"),
    sa.Index("ix_tasks_action_type", "action_type"),
)

# Raw landing for zuora/workflow_pages: the customer's last complete listing, page by page.
raw_workflow_pages = sa.Table(
    "raw_workflow_pages",
    metadata,
    sa.Column("customer_id", BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("page_number", sa.Integer, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
)

# Raw landing for zuora/workflow_exports: the last good export of each workflow, byte for byte,
# with the fingerprint of the list entry it was downloaded for (what change detection compares).
raw_workflow_exports = sa.Table(
    "raw_workflow_exports",
    metadata,
    sa.Column("customer_id", BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("zuora_id", sa.BigInteger, primary_key=True),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("export_hash", sa.String(64), nullable=False),
    sa.Column("list_fingerprint", sa.String(64), nullable=False),
    sa.Column("task_count", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
)

# Exports downloaded by a fetch that has not committed yet: written in short transactions while the
# downloads go on, moved into raw_workflow_exports in one short transaction at the end, so no
# write transaction is held open across network I/O (SQLite has a single writer).
raw_export_staging = sa.Table(
    "raw_export_staging",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("customer_id", BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("zuora_id", sa.BigInteger, primary_key=True),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("export_hash", sa.String(64), nullable=False),
    sa.Column("list_fingerprint", sa.String(64), nullable=False),
    sa.Column("task_count", sa.Integer, nullable=False),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
)

sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("customer_id", BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("full_refresh", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("listing_complete", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
    sa.Column("listed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("exports_requested", sa.Integer, nullable=False, server_default="0"),
    sa.Column("exports_downloaded", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tasks_upserted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tasks_deleted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("api_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_message", sa.Text),
    # Set when the sync failed: True if waiting could cure the error (a step retry re-syncs it).
    sa.Column("retryable", sa.Boolean),
    sa.UniqueConstraint("run_id", "customer_id"),
    sa.Index("ix_sync_runs_customer_id_started_at", "customer_id", "started_at"),
)

# History (append-only): one row per distinct state of a workflow, in the order they were seen. A
# revision is what an analyst calls a change: the export or the listing's name, description,
# status or Zuora version changed. Rows are only ever added; a newer revision stamps the one it
# replaces with ``superseded_at``; a soft-deleted workflow keeps all of them.
workflow_revisions = sa.Table(
    "workflow_revisions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("customer_id", BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("workflow_zuora_id", sa.BigInteger, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("state", sa.Text),
    sa.Column("active_version", sa.Text),
    sa.Column("export_hash", sa.String(64)),
    sa.Column("json_export", JSONDoc),
    sa.Column("task_count", sa.Integer),
    # NULL run ids: revisions seeded from the current state when the history was introduced.
    sa.Column("first_seen_run_id", sa.String(64)),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_run_id", sa.String(64)),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("superseded_at", UTCDateTime),
    sa.UniqueConstraint("customer_id", "workflow_zuora_id", "revision"),
)

# The change log: what each sync saw happen to each workflow, with a summary in Zuora's terms.
workflow_changes = sa.Table(
    "workflow_changes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("customer_id", BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("workflow_zuora_id", sa.BigInteger, nullable=False),
    sa.Column("workflow_name", sa.Text, nullable=False),
    sa.Column("change", sa.String(16), nullable=False),
    sa.Column("revision", sa.Integer),
    sa.Column("previous_revision", sa.Integer),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("tasks_added", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tasks_removed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tasks_changed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("linkages_changed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("settings_changed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("change IN ('created', 'updated', 'deleted', 'restored')", name="change"),
    sa.Index("ix_workflow_changes_customer_id_changed_at", "customer_id", "changed_at"),
    sa.Index("ix_workflow_changes_changed_at", "changed_at"),
)


# What `search` matches (warehouse/search.py): a task's name and parameters as one text.
def task_search_text(qualifier: str = "") -> str:
    """Spelled with literal constants, not bound parameters, so that PostgreSQL's planner sees
    the very expression the query filters on."""
    return f"COALESCE({qualifier}name, '') || ' ' || COALESCE(CAST({qualifier}data AS TEXT), '')"


# What `search` matches in each task of a workflow (task_search_text), joined by spaces: written
# with the tasks, one row per workflow that has tasks. The trigram index behind `search` is on
# this text: a task that contains the text is in a workflow whose text contains it, so the index
# finds the candidate workflows and their tasks are checked one by one. Per task, GIN maintenance
# was half the cost of loading tasks (every task adds ~70 trigram entries); the tasks of one
# workflow share most trigrams, so per workflow there are ~10x fewer. A table of its own, not a
# column of ``workflows``: every update of a ``workflows`` row (each sync stamps last_synced_at)
# would insert the row's trigrams into the index again. SQLite has no such index and scans.
workflow_search_texts = sa.Table(
    "workflow_search_texts",
    metadata,
    sa.Column("workflow_id", BigId, sa.ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tasks_search_text", sa.Text, nullable=False),
)
sa.Index(
    "ix_workflow_search_texts_tasks_search_text",
    sa.text("tasks_search_text gin_trgm_ops"),
    _table=workflow_search_texts,
    postgresql_using="gin",
).ddl_if(dialect="postgresql")

# Syncs asked for from outside Dagster (the CLI's queued `sync`), one row per customer. The
# deployment's `sync_requests_sensor` claims pending rows into runs (rows claimed together share
# `claim`, the run's key), then writes the run's id and, once it ended, its outcome here, so a
# CLI needs nothing but the warehouse. `run_id` is the run the request waits for: the claim's
# run, then its automatic retry if it failed and Dagster retried it.
sync_requests = sa.Table(
    "sync_requests",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("customer_id", BigId, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("full_refresh", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("allow_mass_delete", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("requested_at", UTCDateTime, nullable=False, server_default=_now()),
    sa.Column("claim", sa.String(64)),
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("run_id", sa.String(64)),
    # The run's end as Dagster reports it (SUCCESS, FAILURE, CANCELED), or NOT_RUN when the
    # sensor dropped the request (the customer was paused before its run was made).
    sa.Column("run_status", sa.String(16)),
    sa.Column("run_started_at", UTCDateTime),
    sa.Column("run_finished_at", UTCDateTime),
    sa.Column("run_error", sa.Text),
    sa.Index("ix_sync_requests_claim", "claim"),
    sa.Index("ix_sync_requests_run_status", "run_status"),
)

# Every run made for a claim (its first run and each automatic retry): a customer synced by an
# attempt before the last one has its sync record under that attempt's run id.
sync_request_runs = sa.Table(
    "sync_request_runs",
    metadata,
    sa.Column("claim", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(64), primary_key=True),
)

# When each sensor that serves the warehouse's users last ran, in the database server's clock
# (hosts' clocks may differ): the CLI refuses to queue a sync nobody would pick up.
sensor_heartbeats = sa.Table(
    "sensor_heartbeats",
    metadata,
    sa.Column("sensor", sa.String(64), primary_key=True),
    sa.Column("beat_at", UTCDateTime, nullable=False),
)
