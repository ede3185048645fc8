"""Schema migrations (Alembic) run from code, and the check every command makes first."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from zuora_pipeline.warehouse.transactions import write_transaction

_MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaMissingError(RuntimeError):
    """The warehouse has no schema, or an older one than this code needs."""


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the schema to head; idempotent. Returns (revision before, revision after)."""
    before = current_revision(engine)
    cfg = _alembic_config()
    with write_transaction(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return before, head_revision()


def require_schema(engine: sa.Engine) -> None:
    current = current_revision(engine)
    if current != head_revision():
        where = engine.url.render_as_string(hide_password=True)
        state = "has no schema" if current is None else f"is at revision {current}"
        raise SchemaMissingError(
            f"the warehouse at {where} {state} (this code needs {head_revision()}): run `zuora-pipeline db upgrade`"
        )
