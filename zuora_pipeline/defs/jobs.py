"""The jobs: a customer's sync, its tasks re-extraction, and the fleet-wide checks.

They run in the run's own process: a sync is I/O-bound and a process per step would cost more in
Python start-up than the step itself. Concurrency comes from the customers of a run (synced side
by side, ``sync/run.py``), from several runs at once (the run queue), and from each client's
bounded request pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dagster as dg

from zuora_pipeline.defs.keys import SYNC_OP
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.sync.results import WORKFLOW_TASKS

SYNC_JOB_NAME = "sync_customer_workflows"
REEXTRACT_JOB_NAME = "reextract_tasks"
FLEET_CHECKS_JOB_NAME = "fleet_quality_checks"


@dataclass(frozen=True)
class Jobs:
    # What ``define_asset_job`` returns; Dagster does not export its type.
    sync: Any
    reextract: Any
    fleet_checks: Any


def sync_run_config(*, full_refresh: bool = False, allow_mass_delete: bool = False) -> dict[str, Any]:
    return {"ops": {SYNC_OP: {"config": {"full_refresh": full_refresh, "allow_mass_delete": allow_mass_delete}}}}


def reextract_run_config() -> dict[str, Any]:
    return {"ops": {SYNC_OP: {"config": {"reextract_all": True}}}}


def build_jobs(options: PipelineOptions) -> Jobs:
    return Jobs(
        sync=dg.define_asset_job(
            SYNC_JOB_NAME,
            selection=dg.AssetSelection.assets(*options.sync_keys),
            executor_def=dg.in_process_executor,
            description="List, export, normalize and extract the Zuora workflows of the run's customers.",
        ),
        reextract=dg.define_asset_job(
            REEXTRACT_JOB_NAME,
            selection=dg.AssetSelection.assets(options.key(WORKFLOW_TASKS)),
            executor_def=dg.in_process_executor,
            config=reextract_run_config(),
            description="Rebuild tasks from the stored exports, without any Zuora API call. Not a sync: "
            "it leaves the customer's last sync and its freshness alone.",
        ),
        # Unpartitioned: one run judges every customer.
        fleet_checks=dg.define_asset_job(
            FLEET_CHECKS_JOB_NAME,
            selection=dg.AssetSelection.checks_for_assets(options.fleet_key),
            executor_def=dg.in_process_executor,
            description="The fleet-wide checks: each active customer's freshness, orphan tasks.",
        ),
    )
