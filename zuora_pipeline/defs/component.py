"""``ZuoraPipelineComponent``: the pipeline as a Dagster component, for a project that already runs
Dagster. In the project's ``defs/`` folder, a ``defs.yaml``:

    type: zuora_pipeline.defs.component.ZuoraPipelineComponent
    attributes:
      key_prefix: [billing, zuora]
      group: billing_zuora
      owners: ["team:billing-ops"]
      warehouse_key: zuora_warehouse

Every attribute is optional (the standalone code location's names are the defaults). With
``provide_resources: false`` the project defines the ``warehouse``, ``zuora`` and ``alerts``
resources itself (under the keys chosen here), e.g. to share one warehouse resource.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
from pydantic import Field

from zuora_pipeline import config
from zuora_pipeline.defs.factory import build_definitions
from zuora_pipeline.defs.options import PipelineOptions


class ZuoraPipelineComponent(dg.Component, dg.Model, dg.Resolvable):
    """Mirrors every customer's Zuora Workflow definitions into a SQL warehouse, hourly."""

    key_prefix: list[str] = Field(default_factory=lambda: ["zuora"], description="asset key prefix")
    group: str = Field(default="zuora", description="asset group")
    owners: list[str] = Field(default_factory=list, description="asset owners (team:NAME or e-mail)")
    tags: dict[str, str] = Field(default_factory=dict, description="tags added to every asset")
    partitions_name: str = Field(default="customers", description="name of the customers' dynamic partitions")
    warehouse_key: str = "warehouse"
    zuora_key: str = "zuora"
    alerts_key: str = "alerts"
    customers_per_run: int = Field(default=config.DEFAULT_CUSTOMERS_PER_RUN, ge=1, le=100)
    schedule_cron: str = Field(default="0 * * * *", description="when the sync of every active customer runs")
    schedule_running: bool = Field(default=True, description="schedule and sensors on when the location loads")
    stale_after_minutes: float = Field(
        default=config.DEFAULT_STALE_AFTER.total_seconds() / 60,
        gt=0,
        description="a customer not synced for this long is stale",
    )
    provide_resources: bool = Field(
        default=True, description="define the resources from the ZUORA_PIPELINE_* environment under the keys above"
    )

    def options(self) -> PipelineOptions:
        return PipelineOptions(
            key_prefix=tuple(self.key_prefix),
            group=self.group,
            owners=tuple(self.owners),
            tags=dict(self.tags),
            partitions_name=self.partitions_name,
            warehouse_key=self.warehouse_key,
            zuora_key=self.zuora_key,
            alerts_key=self.alerts_key,
            customers_per_run=self.customers_per_run,
            schedule_cron=self.schedule_cron,
            schedule_running=self.schedule_running,
            stale_after=timedelta(minutes=self.stale_after_minutes),
            warehouse_kind=config.warehouse_kind(config.database_url()),
            browser_url=config.browser_url(),
        )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return build_definitions(self.options(), resources=None if self.provide_resources else {})
