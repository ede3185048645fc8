"""What the commands share: the warehouse engine and the Dagster instance."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from zuora_pipeline import config
from zuora_pipeline.dagster_instance import ensure_instance_config, ensure_instance_storage
from zuora_pipeline.warehouse.engine import get_engine
from zuora_pipeline.warehouse.migrate import require_schema

if TYPE_CHECKING:
    import dagster as dg


def warehouse(*, check_schema: bool = True) -> sa.Engine:
    engine = get_engine(config.database_url())
    if check_schema:
        require_schema(engine)
    return engine


def dagster_home() -> str:
    """DAGSTER_HOME, else a directory of our own so CLI runs are kept (and visible in the UI
    when `dagster dev` is started with the same DAGSTER_HOME). Either way it holds a
    dagster.yaml (the development one unless one is there already), so the run queue's limits
    apply to the CLI's runs too, and complete storage: a command killed while it was being created
    leaves nothing that breaks the next one."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(config.data_dir() / "dagster_home")
        os.environ["DAGSTER_HOME"] = home
    ensure_instance_config(Path(home))
    ensure_instance_storage(Path(home))
    return home


def dagster_instance() -> dg.DagsterInstance:
    import dagster as dg

    dagster_home()
    return dg.DagsterInstance.get()
