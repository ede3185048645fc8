"""Dagster resources. Their configuration is their fields, so the UI's Resources page shows what a
deployment uses; clients and engines are built per use.

Each field that comes from the environment is an ``EnvVar`` when its variable is set: the
Resources page shows the variable's name (never its value, which matters for the secret key) and
Dagster reads the value in each run. When the variable is unset the field holds the documented
default instead (an unset ``EnvVar`` would fail every run), e.g. the zero-set-up SQLite warehouse.
``environment_resources`` is the one place that makes that choice.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from zuora_pipeline import config
from zuora_pipeline.crypto import SecretBox
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.engine import get_engine
from zuora_pipeline.warehouse.migrate import require_schema
from zuora_pipeline.zuora import ClientSettings, ZuoraClient, parse_allowed_hosts
from zuora_pipeline.zuora.settings import DEFAULT_CONCURRENCY

_checked: set[str] = set()
_checked_lock = threading.Lock()


class WarehouseResource(dg.ConfigurableResource):
    """The SQL warehouse (PostgreSQL in production, a SQLite file by default)."""

    database_url: str = Field(
        description=f"SQLAlchemy URL of the warehouse, from {config.DATABASE_URL_ENV}; without it, "
        "a SQLite file in the data directory"
    )

    def engine(self) -> sa.Engine:
        engine = get_engine(self.database_url)
        key = str(engine.url)
        with _checked_lock:
            if key not in _checked:
                require_schema(engine)
                _checked.add(key)
        return engine

    def customer(self, name: str) -> Customer:
        with self.engine().connect() as conn:
            return customers.get(conn, name)


class ZuoraResource(dg.ConfigurableResource):
    """How we talk to Zuora; one client (one token, one connection pool) per customer sync."""

    secret_key: str | None = Field(
        default=None,
        description=f"Fernet key that decrypts the stored client secrets, from {config.SECRET_KEY_ENV} "
        "(shown here by the variable's name only)",
        # Should a literal key ever be configured, the Resources page masks it instead of showing it.
        json_schema_extra={"dagster__is_secret": True},
    )
    allowed_hosts: str = Field(
        default="",
        description=f"hosts (host or host:port, comma separated) a base URL may use besides Zuora's "
        f"REST hosts, from {config.ALLOWED_HOSTS_ENV}; http only for loopback hosts listed here",
    )
    page_length: int = Field(default=50, le=50, ge=1, description="workflows per list page")
    concurrency: int = Field(
        default=DEFAULT_CONCURRENCY,
        ge=1,
        le=40,
        description="requests in flight per customer sync, unless the customer sets its own max_concurrency",
    )
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_pages: int = 10_000
    max_attempts: int = 6
    max_retry_wait: float = 120.0
    retry_budget_s: float = 300.0

    def settings(self) -> ClientSettings:
        return ClientSettings(
            page_length=self.page_length,
            concurrency=self.concurrency,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_pages=self.max_pages,
            max_attempts=self.max_attempts,
            max_retry_wait=self.max_retry_wait,
            retry_budget_s=self.retry_budget_s,
            allowed_hosts=parse_allowed_hosts(self.allowed_hosts),
        )

    def client_for(self, customer: Customer) -> ZuoraClient:
        secret = SecretBox.from_key(self.secret_key).decrypt(customer.client_secret_encrypted, customer=customer.name)
        return ZuoraClient(
            customer.base_url,
            customer.client_id,
            secret,
            customer=customer.name,
            # The tenant's own limit (`customers add/update --max-concurrency`), else ours.
            settings=dataclasses.replace(self.settings(), concurrency=customer.max_concurrency or self.concurrency),
        )


def _fields() -> dict[str, dict[str, tuple[str, Any]]]:
    """resource -> field -> (environment variable, default when it is unset)."""
    return {
        "warehouse": {"database_url": (config.DATABASE_URL_ENV, config.default_database_url())},
        "zuora": {
            "secret_key": (config.SECRET_KEY_ENV, None),
            "allowed_hosts": (config.ALLOWED_HOSTS_ENV, ""),
        },
    }


def environment_resources() -> dict[str, dg.ConfigurableResource]:
    """The definitions' resources, from the environment of the process loading them."""
    values = {
        resource: {field: dg.EnvVar(var) if config.is_set(var) else default for field, (var, default) in f.items()}
        for resource, f in _fields().items()
    }
    return {"warehouse": WarehouseResource(**values["warehouse"]), "zuora": ZuoraResource(**values["zuora"])}


def environment_run_config() -> dict[str, Any]:
    """The same fields as run config, decided now: for runs executed in this process, whose
    environment may have changed since the definitions were loaded (the CLI, the bench, tests).
    A variable that is set is passed by name (``{"env": VAR}``), so no value lands in the run's
    stored config."""
    return {
        resource: {
            "config": {field: {"env": var} if config.is_set(var) else default for field, (var, default) in f.items()}
        }
        for resource, f in _fields().items()
    }
