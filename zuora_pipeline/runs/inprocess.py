"""Running the jobs in this process (CLI ``--in-process``, the demo, the bench) and reporting
each customer's stats from the sync record."""

from __future__ import annotations

import time
from typing import Any

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline import config
from zuora_pipeline.defs.jobs import REEXTRACT_JOB_NAME, SYNC_JOB_NAME, reextract_run_config, sync_run_config
from zuora_pipeline.defs.keys import RANGE_END_TAG, RANGE_START_TAG, SYNC_OP, TRIGGER_TAG
from zuora_pipeline.defs.notifications import AlertChannels, alert_in_process_run
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.defs.resources import environment_run_config
from zuora_pipeline.defs.run_logs import loggers_run_config, with_run_logger
from zuora_pipeline.logs import TEXT
from zuora_pipeline.runs.outcome import SyncOutcome, outcome_from_record
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.transactions import write_transaction

# The standalone code location's partitions (``zuora_pipeline.definitions``).
PARTITIONS_NAME = PipelineOptions().partitions_name


def code_location() -> dg.Definitions:
    """The standalone code location's definitions, loaded on first use (they import Dagster's
    whole execution stack and read the environment)."""
    from zuora_pipeline.definitions import defs

    return defs


def ensure_partitions(instance: dg.DagsterInstance, names: list[str]) -> None:
    existing = set(instance.get_dynamic_partitions(PARTITIONS_NAME))
    missing = [n for n in names if n not in existing]
    if missing:
        instance.add_dynamic_partitions(PARTITIONS_NAME, missing)


def register_customer(
    instance: dg.DagsterInstance,
    engine: sa.Engine,
    *,
    name: str,
    base_url: str,
    client_id: str,
    client_secret: str,
) -> str:
    """Add a customer (secret encrypted with ZUORA_PIPELINE_SECRET_KEY) and its partition now,
    without waiting for the sensor: what the demo, the bench and the tests need."""
    with write_transaction(engine) as conn:
        customers.add(
            conn,
            name=name,
            base_url=base_url,
            client_id=client_id,
            client_secret_encrypted=config.secret_box().encrypt(client_secret),
        )
    ensure_partitions(instance, [name])
    return name


def _first_failure(result: dg.ExecuteInProcessResult) -> str | None:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            return event.step_failure_data.error.message.strip().splitlines()[0]
    return None


def _in_process_run_finished(
    instance: dg.DagsterInstance,
    engine: sa.Engine,
    customer: str,
    result: dg.ExecuteInProcessResult,
    seconds: float,
    alerts: AlertChannels | None,
) -> SyncOutcome:
    """Every in-process sync ends here, whoever started it (CLI, demo, bench, tests): the one place
    that acts on its outcome. The run's events (stack traces included) are in the instance's event log."""
    alert_in_process_run(instance, result, alerts)
    return outcome_from_record(
        engine, customer, result.run_id, success=result.success, seconds=seconds, failure=_first_failure(result)
    )


def run_sync(
    instance: dg.DagsterInstance,
    engine: sa.Engine,
    customer: str,
    *,
    full_refresh: bool = False,
    allow_mass_delete: bool = False,
    tags: dict[str, str] | None = None,
    log_format: str = TEXT,
    log_level: str = "warning",
    resources_config: dict[str, Any] | None = None,
    alerts: AlertChannels | None = None,
) -> SyncOutcome:
    """``resources_config`` overrides resource fields for this run only, e.g.
    ``{"zuora": {"concurrency": 20}}`` (the bench's tenant limit). A failed run alerts on
    ``alerts`` (default: the ZUORA_PIPELINE_ALERT_* environment), as the sensor does for runs
    the Dagster services launch. ``log_format``/``log_level``: how the run logs to the terminal
    (``defs/run_logs.py``)."""
    defs = code_location()
    started = time.monotonic()
    job = with_run_logger(defs.resolve_job_def(SYNC_JOB_NAME), log_format)
    result = job.execute_in_process(
        partition_key=customer,
        instance=instance,
        run_config={
            **sync_run_config(full_refresh=full_refresh, allow_mass_delete=allow_mass_delete),
            **loggers_run_config(log_format, log_level),
            **_resources_run_config(resources_config),
        },
        tags={TRIGGER_TAG: "cli", **(tags or {})},
        raise_on_error=False,
    )
    return _in_process_run_finished(instance, engine, customer, result, time.monotonic() - started, alerts)


def run_sync_range(
    instance: dg.DagsterInstance,
    engine: sa.Engine,
    names: list[str],
    *,
    tags: dict[str, str] | None = None,
    resources_config: dict[str, Any] | None = None,
    alerts: AlertChannels | None = None,
) -> list[SyncOutcome]:
    """One run syncing the customers ``names`` (consecutive partitions, in partition order), as a
    run of the hourly schedule or of a backfill does; one outcome per customer."""
    defs = code_location()
    started = time.monotonic()
    result = defs.resolve_job_def(SYNC_JOB_NAME).execute_in_process(
        instance=instance,
        run_config={**sync_run_config(), **_resources_run_config(resources_config)},
        tags={RANGE_START_TAG: names[0], RANGE_END_TAG: names[-1], TRIGGER_TAG: "cli", **(tags or {})},
        raise_on_error=False,
    )
    alert_in_process_run(instance, result, alerts)
    seconds = time.monotonic() - started
    failed = {
        mat.partition
        for mat in result.all_events
        if mat.event_type == dg.DagsterEventType.ASSET_FAILED_TO_MATERIALIZE and mat.partition
    }
    materialized = {mat.partition for mat in result.asset_materializations_for_node(SYNC_OP)}
    return [
        outcome_from_record(
            engine,
            name,
            result.run_id,
            success=name in materialized and name not in failed,
            seconds=seconds,
            failure=_first_failure(result),
        )
        for name in names
    ]


def _resources_run_config(resources_config: dict[str, Any] | None = None) -> dict[str, Any]:
    # This process's environment now, not when the definitions were imported.
    resources = environment_run_config()
    for name, cfg in (resources_config or {}).items():
        resources[name] = {"config": {**resources.get(name, {}).get("config", {}), **cfg}}
    return {"resources": resources}


def run_reextract(
    instance: dg.DagsterInstance,
    customer: str,
    alerts: AlertChannels | None = None,
    *,
    log_format: str = TEXT,
    log_level: str = "warning",
) -> dg.ExecuteInProcessResult:
    defs = code_location()
    result = with_run_logger(defs.resolve_job_def(REEXTRACT_JOB_NAME), log_format).execute_in_process(
        partition_key=customer,
        instance=instance,
        raise_on_error=False,
        # A run config replaces the job's default config, so it says reextract_all again.
        run_config={
            **reextract_run_config(),
            **loggers_run_config(log_format, log_level),
            **_resources_run_config(),
        },
        tags={TRIGGER_TAG: "cli"},
    )
    alert_in_process_run(instance, result, alerts)
    return result
