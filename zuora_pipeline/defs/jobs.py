"""The jobs: a customer's sync, its tasks re-extraction, and the fleet-wide checks.

They run in the run's own process: a sync is I/O-bound and a process per step would cost more in
Python start-up than the step itself. Concurrency comes from the customers of a run (synced side
by side, see ``defs/assets/sync.py``), from several runs at once (the run queue), and from each
client's bounded request pool.
"""

import dagster as dg

from zuora_pipeline.defs.assets.sync import SYNC_OP
from zuora_pipeline.defs.keys import FLEET, SYNC_ASSETS, WORKFLOW_TASKS

SYNC_JOB_NAME = "sync_customer_workflows"
REEXTRACT_JOB_NAME = "reextract_tasks"
FLEET_CHECKS_JOB_NAME = "fleet_quality_checks"

sync_customer_workflows = dg.define_asset_job(
    SYNC_JOB_NAME,
    selection=dg.AssetSelection.assets(*SYNC_ASSETS),
    executor_def=dg.in_process_executor,
    description="List, export, normalize and extract the Zuora workflows of the run's customers.",
)

reextract_tasks = dg.define_asset_job(
    REEXTRACT_JOB_NAME,
    selection=dg.AssetSelection.assets(WORKFLOW_TASKS),
    executor_def=dg.in_process_executor,
    config={"ops": {SYNC_OP: {"config": {"reextract_all": True}}}},
    description="Rebuild tasks from the stored exports, without any Zuora API call. Not a sync: "
    "it leaves the customer's last sync and its freshness alone.",
)

# Unpartitioned: one run judges every customer (see defs/assets/fleet.py).
fleet_quality_checks = dg.define_asset_job(
    FLEET_CHECKS_JOB_NAME,
    selection=dg.AssetSelection.checks_for_assets(FLEET),
    executor_def=dg.in_process_executor,
    description="The fleet-wide checks: each active customer's freshness, orphan tasks.",
)


def sync_run_config(*, full_refresh: bool = False, allow_mass_delete: bool = False) -> dict:
    return {"ops": {SYNC_OP: {"config": {"full_refresh": full_refresh, "allow_mass_delete": allow_mass_delete}}}}


def reextract_run_config() -> dict:
    return {"ops": {SYNC_OP: {"config": {"reextract_all": True}}}}
