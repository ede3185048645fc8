"""Dagster's own storage on PostgreSQL with pooled connections: the opt-in ``storage`` block of
the production instance, deploy/production/pooled-storage.yaml.

dagster-postgres creates its run, event log and schedule storages on SQLAlchemy's ``NullPool``
and has no configuration key that changes it (its ``params`` only reach libpq): every query
opens and closes a PostgreSQL connection, ~190 per sync run, each a server process start.
Only ``dagster-webserver`` swaps in a pooled engine, through the storages' own
``optimize_for_webserver``. This storage calls the same method when it is created, so the
daemon and every run worker keep one connection per storage open and open more only while
several threads query at once.

``optimize_for_webserver`` is public on the storages but undocumented, and it replaces each
storage's engine without disposing the one it had (a ``NullPool`` engine, which holds no
connection, but its pool and event hooks stay referenced until disposed): this storage disposes
it. A test creates this storage on a real PostgreSQL and checks both, so an upgrade that changes
either fails there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import dagster as dg
from dagster_postgres import (
    DagsterPostgresStorage,
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

POOL = "pool"
DEFAULT_MAX_OVERFLOW = 20  # the webserver's default: connections beyond the pooled one, closed when returned
DEFAULT_RECYCLE_SECONDS = 3600  # the webserver's default
NO_STATEMENT_TIMEOUT = 0  # the webserver's 15 s limit is for UI queries, not for the daemon's or a run's


class PooledPostgresStorage(DagsterPostgresStorage):
    """``DagsterPostgresStorage`` whose storages each keep one connection open (``pool:
    max_overflow``, ``recycle_seconds`` beside the usual ``postgres_db``/``postgres_url``)."""

    def __init__(self, *args: Any, max_overflow: int, recycle_seconds: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for storage in (self.run_storage, self.event_log_storage, self.schedule_storage):
            assert isinstance(storage, PostgresRunStorage | PostgresEventLogStorage | PostgresScheduleStorage)
            replaced = storage._engine  # the attribute optimize_for_webserver reassigns
            storage.optimize_for_webserver(
                statement_timeout=NO_STATEMENT_TIMEOUT, pool_recycle=recycle_seconds, max_overflow=max_overflow
            )
            replaced.dispose()

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {
            **cast(dict[str, Any], DagsterPostgresStorage.config_type()),
            POOL: dg.Field(
                {
                    "max_overflow": dg.Field(dg.IntSource, is_required=False, default_value=DEFAULT_MAX_OVERFLOW),
                    "recycle_seconds": dg.Field(dg.IntSource, is_required=False, default_value=DEFAULT_RECYCLE_SECONDS),
                },
                is_required=False,
            ),
        }

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]) -> PooledPostgresStorage:  # type: ignore[override]
        pool = config_value.get(POOL) or {}
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
            max_overflow=pool.get("max_overflow", DEFAULT_MAX_OVERFLOW),
            recycle_seconds=pool.get("recycle_seconds", DEFAULT_RECYCLE_SECONDS),
        )
