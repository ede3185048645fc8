"""``build_definitions``: the whole pipeline as one ``Definitions``, for a set of options.

The standalone code location (``zuora_pipeline.definitions``) is this with the defaults; a project
that already runs Dagster adds the pipeline with its own prefix, group, owners and resource keys,
by calling it or through ``ZuoraPipelineComponent`` (``defs/component.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from zuora_pipeline.defs.abandoned_syncs import build_abandoned_syncs_sensor
from zuora_pipeline.defs.assets import build_sync_asset
from zuora_pipeline.defs.checks import build_fleet_checks
from zuora_pipeline.defs.freshness_alerts import build_stale_alerts
from zuora_pipeline.defs.jobs import build_jobs
from zuora_pipeline.defs.notifications import AlertChannels, build_failure_alerts
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.defs.resources import environment_resources
from zuora_pipeline.defs.schedules import build_schedules
from zuora_pipeline.defs.sensors import build_partitions_sensor
from zuora_pipeline.defs.specs import build_specs
from zuora_pipeline.defs.sync_requests import build_sync_requests_sensor


def default_resources(options: PipelineOptions) -> dict[str, Any]:
    """The resources from this process's environment, under the options' keys."""
    resources = environment_resources()
    return {
        options.warehouse_key: resources["warehouse"],
        options.zuora_key: resources["zuora"],
        options.alerts_key: AlertChannels.from_environment(),
    }


def build_definitions(
    options: PipelineOptions | None = None,
    *,
    resources: Mapping[str, Any] | None = None,
    executor: dg.ExecutorDefinition | None = None,
) -> dg.Definitions:
    """Every asset, check, job, schedule and sensor of the pipeline. ``resources`` default to the
    environment's (``ZUORA_PIPELINE_*`` variables); ``executor`` is the one of the project's
    implicit asset job (the jobs of the pipeline always run their step in the run's process)."""
    options = options or PipelineOptions()
    specs = build_specs(options)
    jobs = build_jobs(options)
    return dg.Definitions(
        assets=[build_sync_asset(options, specs), specs.fleet, *specs.views],
        asset_checks=[build_fleet_checks(options)],
        jobs=[jobs.sync, jobs.reextract, jobs.fleet_checks],
        schedules=build_schedules(options, jobs),
        sensors=[
            build_partitions_sensor(options, jobs, specs.partitions),
            build_sync_requests_sensor(options, jobs, specs.partitions),
            build_abandoned_syncs_sensor(options),
            build_failure_alerts(options),
            build_stale_alerts(options),
        ],
        resources=dict(resources) if resources is not None else default_resources(options),
        executor=executor,
    )
