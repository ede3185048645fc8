"""Alembic environment: runs against the connection handed over by ``migrate.upgrade``."""

from __future__ import annotations

from alembic import context

from zuora_pipeline.warehouse.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we always hand a connection over
    raise RuntimeError("run migrations through `zuora-pipeline db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
