"""Dagster resources: configuration only (no secrets); clients and engines are built per use."""

from __future__ import annotations

import dataclasses
import threading

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from zuora_pipeline import config
from zuora_pipeline.crypto import SecretBox
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.engine import get_engine
from zuora_pipeline.warehouse.migrate import require_schema
from zuora_pipeline.zuora import ClientSettings, ZuoraClient
from zuora_pipeline.zuora.settings import DEFAULT_CONCURRENCY

_checked: set[str] = set()
_checked_lock = threading.Lock()


class WarehouseResource(dg.ConfigurableResource):
    """The SQL warehouse. Without ``database_url``, ZUORA_PIPELINE_DATABASE_URL or the default
    SQLite file is used, so the same definitions run in the demo and in production."""

    database_url: str | None = Field(default=None, description="SQLAlchemy URL of the warehouse")

    def url(self) -> str:
        return self.database_url or config.database_url()

    def engine(self) -> sa.Engine:
        engine = get_engine(self.url())
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
        )

    def client_for(self, customer: Customer) -> ZuoraClient:
        secret = SecretBox.from_env().decrypt(customer.client_secret_encrypted, customer=customer.name)
        return ZuoraClient(
            customer.base_url,
            customer.client_id,
            secret,
            customer=customer.name,
            # The tenant's own limit (`customers add/update --max-concurrency`), else ours.
            settings=dataclasses.replace(self.settings(), concurrency=customer.max_concurrency or self.concurrency),
        )
