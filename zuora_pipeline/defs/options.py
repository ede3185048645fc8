"""How the pipeline's definitions are named and placed: what a project embedding it may choose.

The standalone code location uses the defaults (read from the environment where a variable says
so); a platform team adding the pipeline to its own Dagster project picks its own prefix, group,
owners, resource keys, partitions name, customers per run and schedule, through
``build_definitions`` or the ``ZuoraPipelineComponent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import dagster as dg

from zuora_pipeline import config
from zuora_pipeline.sync.results import ASSETS


@dataclass(frozen=True)
class PipelineOptions:
    key_prefix: tuple[str, ...] = ("zuora",)
    group: str = "zuora"
    owners: tuple[str, ...] = ()
    """Asset owners shown in the catalog (``team:billing-ops`` or an e-mail address)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags added to every asset (the pipeline adds ``domain: billing``)."""
    partitions_name: str = "customers"
    warehouse_key: str = "warehouse"
    zuora_key: str = "zuora"
    alerts_key: str = "alerts"
    customers_per_run: int = config.DEFAULT_CUSTOMERS_PER_RUN
    """Customers per run of the hourly schedule and of backfills (1-100)."""
    schedule_cron: str = "0 * * * *"
    schedule_running: bool = True
    """Whether the hourly schedule and the sensors start running when the location loads."""
    stale_after: timedelta = timedelta(hours=2)
    """A customer not synced successfully for this long is stale: a warning and an alert."""
    warehouse_kind: str = "sqlite"
    """The warehouse's dialect, shown as a kind of every table asset (``postgres`` or ``sqlite``)."""
    browser_url: str | None = None
    """The workflow browser's base URL: each materialization links to the customer's page there."""

    def __post_init__(self) -> None:
        if not 1 <= self.customers_per_run <= 100:
            raise ValueError(f"customers_per_run must be from 1 to 100, got {self.customers_per_run}")
        if not self.key_prefix:
            raise ValueError("key_prefix must name at least one path component")

    @classmethod
    def from_environment(cls) -> PipelineOptions:
        """The standalone code location's options: the defaults, with what the environment sets."""
        return cls(
            customers_per_run=config.customers_per_run(),
            stale_after=config.stale_after(),
            warehouse_kind=config.warehouse_kind(config.database_url()),
            browser_url=config.browser_url(),
        )

    def key(self, name: str) -> dg.AssetKey:
        return dg.AssetKey([*self.key_prefix, name])

    @property
    def sync_keys(self) -> tuple[dg.AssetKey, ...]:
        """The assets of one customer's sync, in stage order."""
        return tuple(self.key(name) for name in ASSETS)

    @property
    def fleet_key(self) -> dg.AssetKey:
        # Not materialized by Dagster: the warehouse across all customers, target of the fleet checks.
        return self.key("fleet")

    def asset_name(self, key: dg.AssetKey) -> str:
        """The sync's own name of one of its asset keys."""
        return key.path[-1]
