"""``sync_workflows``: the one step that syncs the customers of a run, as Dagster sees it.

It declares the four sync assets and the nine per-customer checks, asks ``sync/`` to sync each
customer of the run's partitions (``sync/run.py``: a few at a time, each with its own client,
transactions and lock), and turns each customer's result into events of that customer's
partition: its materializations and check evaluations, and, for a failed customer, an observation
carrying the reason on each asset it did not refresh. The step fails at the end naming each failed
customer, so Dagster records those partitions as failed and the others as materialized; a run of
one customer fails exactly as that customer's stage did.

Why one step for the four assets: in a run of several customers an asset's output marks every
partition of the range materialized, and a failed step would block the next steps for every
customer; one step logging each customer's events keeps them apart.

A step retry (transient failures only) and a re-execution from failure re-sync only the customers
whose earlier attempt failed transiently (``sync/run.py``'s ``settled``).
"""

import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import dagster as dg

from zuora_pipeline.defs import partition_events
from zuora_pipeline.defs.keys import API_POOL, PARENT_RUN_TAG, RESUME_RETRY_TAG, SYNC_OP
from zuora_pipeline.defs.notifications import FAILED_CUSTOMERS_KEY
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.defs.policies import SYNC_RETRY_POLICY
from zuora_pipeline.defs.resources import WarehouseResource, ZuoraResource
from zuora_pipeline.defs.specs import Specs
from zuora_pipeline.sync import quality
from zuora_pipeline.sync.apply import DEFAULT_MAX_DELETE_SHARE
from zuora_pipeline.sync.customer import SyncRequest
from zuora_pipeline.sync.results import CustomerResult, FailureKind, Url
from zuora_pipeline.sync.run import settled, sync_customers

# Re-executions followed back to the first run, at most this many.
MAX_PARENT_RUNS = 20


class SyncConfig(dg.Config):
    full_refresh: bool = False
    """Re-export every workflow, not only those whose list entry changed."""
    allow_mass_delete: bool = False
    """Let this sync soft-delete more than max_delete_share of the customer's workflows."""
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    reextract_all: bool = False
    """Re-extract every workflow's tasks, not only those whose export changed."""


def _earlier_run_ids(context: dg.AssetExecutionContext) -> list[str]:
    """For a re-execution from failure, the runs it re-executes, newest first."""
    run = context.run
    found: list[str] = []
    while run.tags.get(RESUME_RETRY_TAG) == "true" and run.tags.get(PARENT_RUN_TAG) and len(found) < MAX_PARENT_RUNS:
        parent = context.instance.get_run_by_id(run.tags[PARENT_RUN_TAG])
        if parent is None:
            break
        found.append(parent.run_id)
        run = parent
    return found


def _events(
    context: dg.AssetExecutionContext, options: PipelineOptions, result: CustomerResult
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation | dg.AssetObservation]:
    for line in result.log:
        context.log.info(line)
    for line in result.warnings:
        context.log.warning(line)
    link = {"browser": Url(f"{options.browser_url}/customers/{quote(result.customer)}")} if options.browser_url else {}
    # The materialization each asset's checks judge, looked up once per asset.
    targets: dict[dg.AssetKey, partition_events.Target] = {}
    done = set()
    for item in result.materializations:
        targets.pop(options.key(item.asset), None)
        done.add(item.asset)
        yield partition_events.materialization(options, item, result.customer, link)
    for check in result.checks:
        yield partition_events.check_evaluation(
            context.instance,
            options,
            check,
            result.customer,
            blocking=check.name in quality.BLOCKING,
            targets=targets,
        )
    if result.failure is not None and result.failure.kind is not FailureKind.INTERRUPTED:
        # Where the operator looks first: the failed partition's own events carry the reason.
        for key in context.selected_asset_keys:
            if options.asset_name(key) not in done:
                yield dg.AssetObservation(
                    asset_key=key,
                    partition=result.customer,
                    description=f"sync failed: {result.failure.message}",
                    metadata={"customer": result.customer, "error": result.failure.message},
                )


def step_failure(results: list[CustomerResult], total: int) -> BaseException | None:
    """How the step ends when customers failed: a run of one customer fails as its stage did (a
    transient error is re-raised for the step's retry policy); a run of several fails naming each
    failed customer, retried if any of them failed transiently."""
    failed = [r for r in results if r.failure is not None]
    if not failed:
        return None
    if total == 1 and len(failed) == 1:
        failure = failed[0].failure
        assert failure is not None
        if failure.kind is FailureKind.TRANSIENT and failure.error is not None:
            return failure.error
        metadata: dict[str, Any] = {"customer": failed[0].customer}
        if failure.kind is FailureKind.CREDENTIALS:
            metadata["paused"] = True
        return dg.Failure(description=failure.message, metadata=metadata, allow_retries=failure.retryable)
    errors = {r.customer: _first_line(r.failure.message) for r in failed if r.failure is not None}
    return dg.Failure(
        description=f"{len(failed)} of {total} customers failed: "
        + "; ".join(f"{name}: {error}" for name, error in errors.items()),
        metadata={FAILED_CUSTOMERS_KEY: dg.MetadataValue.json(errors)},
        allow_retries=any(r.failure is not None and r.failure.retryable for r in failed),
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "failed"


def build_sync_asset(options: PipelineOptions, specs: Specs) -> dg.AssetsDefinition:
    # ``backfill_policy`` is a beta parameter in Dagster 1.13 (a BetaWarning on every load):
    # silenced here, where we choose to rely on it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        decorator = dg.multi_asset(
            name=SYNC_OP,
            specs=specs.sync_assets,
            check_specs=specs.sync_checks,
            pool=API_POOL,
            retry_policy=SYNC_RETRY_POLICY,
            # Computes only the selected assets and checks; a paused customer yields none of them.
            can_subset=True,
            backfill_policy=dg.BackfillPolicy.multi_run(options.customers_per_run),
            required_resource_keys={options.warehouse_key, options.zuora_key},
        )

    @decorator
    def sync_workflows(
        context: dg.AssetExecutionContext, config: SyncConfig
    ) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation | dg.AssetObservation]:
        warehouse: WarehouseResource = getattr(context.resources, options.warehouse_key)
        zuora: ZuoraResource = getattr(context.resources, options.zuora_key)
        engine = warehouse.engine()
        run_id = context.run.run_id
        request = SyncRequest(
            run_id=run_id,
            assets=frozenset(options.asset_name(key) for key in context.selected_asset_keys),
            checks=frozenset(key.name for key in context.selected_asset_check_keys),
            full_refresh=config.full_refresh,
            allow_mass_delete=config.allow_mass_delete,
            max_delete_share=config.max_delete_share,
            reextract_all=config.reextract_all,
        )
        names = list(context.partition_keys)
        earlier = _earlier_run_ids(context)
        results = settled(engine, names, run_id, earlier) if earlier or context.retry_number > 0 else []
        for result in results:
            yield from _events(context, options, result)
        done = {result.customer for result in results}
        todo = [name for name in names if name not in done]
        if len(todo) > 1:
            context.log.info(f"syncing {len(todo)} customers, a few at a time: {', '.join(todo)}")
        for result in sync_customers(engine, todo, request, zuora.client_for):
            results.append(result)
            yield from _events(context, options, result)
        failure = step_failure(results, len(names))
        if failure is not None:
            raise failure

    return sync_workflows
