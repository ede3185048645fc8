"""``zuora-pipeline db upgrade``."""

from __future__ import annotations

import click

from zuora_pipeline.cli import context
from zuora_pipeline.warehouse import migrate


@click.group("db")
def db_group() -> None:
    """Warehouse schema."""


@db_group.command("upgrade")
def upgrade_command() -> None:
    """Create or upgrade the warehouse schema (idempotent)."""
    engine = context.warehouse(check_schema=False)
    before, after = migrate.upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"warehouse {where} is up to date (revision {after})")
    else:
        click.echo(f"warehouse {where} upgraded from {before or 'empty'} to revision {after}")
