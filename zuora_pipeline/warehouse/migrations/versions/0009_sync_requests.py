"""``sync_requests``, ``sync_request_runs``, ``sensor_heartbeats``: the CLI's queued syncs go
through the warehouse.

The CLI records the syncs it is asked for; the deployment's ``sync_requests_sensor`` turns them
into Dagster runs, writes each run's id and outcome back, and stamps its heartbeat, so a CLI on
any host needs only the warehouse URL (no Dagster instance, no code location, no webserver).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sync_requests",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("customer_id", _BIG_ID, nullable=False),
        sa.Column("full_refresh", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("allow_mass_delete", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "requested_at", sa.DateTime(timezone=True), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.Column("claim", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("run_status", sa.String(16), nullable=True),
        sa.Column("run_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sync_requests_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_requests")),
    )
    op.create_index(op.f("ix_sync_requests_claim"), "sync_requests", ["claim"])
    op.create_index(op.f("ix_sync_requests_run_status"), "sync_requests", ["run_status"])
    op.create_table(
        "sync_request_runs",
        sa.Column("claim", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("claim", "run_id", name=op.f("pk_sync_request_runs")),
    )
    op.create_table(
        "sensor_heartbeats",
        sa.Column("sensor", sa.String(64), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sensor", name=op.f("pk_sensor_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("sensor_heartbeats")
    op.drop_table("sync_request_runs")
    op.drop_index(op.f("ix_sync_requests_run_status"), table_name="sync_requests")
    op.drop_index(op.f("ix_sync_requests_claim"), table_name="sync_requests")
    op.drop_table("sync_requests")
