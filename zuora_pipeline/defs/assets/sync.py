"""``sync_workflows``: the one step that syncs the customers of a run.

It computes the four ``zuora`` assets of each customer of the run's partitions, in order: the
fetch stage (``workflow_pages`` and ``workflow_exports``), then ``workflows``, then
``workflow_tasks``, each stage followed by its checks. A run of one customer (the Materialize
button on one partition, the CLI, the onboarding sensor) and a run of many (the hourly schedule
and backfills, up to ``ZUORA_PIPELINE_CUSTOMERS_PER_RUN`` customers: a Python process and a run's
Dagster overhead cost more than a small customer's sync, so a fleet syncs far faster this way)
go through the same code:

- Each customer is synced in a thread of its own, with its own Zuora client (token, limits) and
  its own warehouse transactions, holding the customer's sync lock for the whole sync (no two
  runs ever sync one customer at once: the run queue's per-customer limit does not cover runs of
  several customers).
- Its results are logged as events of its own partition (``defs/partition_events.py``): its
  materializations, its check results, and, when it fails, its failure: the step fails at the
  end, naming each failed customer, so Dagster records those partitions as failed and the others
  as materialized. A customer whose stage fails or whose blocking check fails stops there.
- A step retry (transient failures only) re-syncs only the customers that failed transiently; so
  does a re-execution of a failed run from failure. Customers already synced by the run (or by
  the run it re-executes) are left alone, and deterministic failures are reported again, not retried.
- A paused customer is untouched: no Zuora call, no materialization, a WARN ``customer_active``.

Materializing one asset alone runs only its stage (``workflow_tasks`` alone re-extracts tasks from
the stored exports); checks executed alone judge the warehouse as it is.
"""

import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline import config as environment
from zuora_pipeline.defs import partition_events
from zuora_pipeline.defs.assets import fetch, tasks, workflows
from zuora_pipeline.defs.checks import TASKS_CHECK_SPECS, WORKFLOWS_CHECK_SPECS, tasks_checks, workflows_checks
from zuora_pipeline.defs.failures import is_deterministic, load_customer
from zuora_pipeline.defs.keys import (
    API_POOL,
    PARENT_RUN_TAG,
    RESUME_RETRY_TAG,
    SYNC_ASSETS,
    WORKFLOW_EXPORTS,
    WORKFLOW_PAGES,
    WORKFLOW_TASKS,
    WORKFLOWS,
)
from zuora_pipeline.defs.notifications import FAILED_CUSTOMERS_KEY
from zuora_pipeline.defs.policies import SYNC_RETRY_POLICY
from zuora_pipeline.defs.resources import WarehouseResource, ZuoraResource
from zuora_pipeline.sync.apply import DEFAULT_MAX_DELETE_SHARE
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.transactions import customer_sync_lock, write_transaction

SYNC_OP = "sync_workflows"
CHECK_SPECS = [*fetch.CHECK_SPECS, *workflows.CHECK_SPECS, *WORKFLOWS_CHECK_SPECS, *TASKS_CHECK_SPECS]
# Customers of one run synced at the same time. A sync is latency-bound but its CPU shares one
# interpreter lock; each customer in flight also holds up to three warehouse connections (its
# lock, its reads, its staging writer) of the engine's 15.
CUSTOMERS_AT_ONCE = 4
_BLOCKING = {spec.key for spec in CHECK_SPECS if spec.blocking}


class SyncConfig(dg.Config):
    full_refresh: bool = False
    """Re-export every workflow, not only those whose list entry changed."""
    allow_mass_delete: bool = False
    """Let this sync soft-delete more than max_delete_share of the customer's workflows."""
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    reextract_all: bool = False
    """Re-extract every workflow's tasks, not only those whose export changed."""


class BlockedError(Exception):
    """A blocking check failed: the customer's sync stops before the assets it guards."""


@dataclass(frozen=True)
class Plan:
    """What the run asked for, the same for every customer of the run."""

    run_id: str
    assets: frozenset[dg.AssetKey]
    checks: frozenset[dg.AssetCheckKey]
    config: SyncConfig

    @property
    def whole_sync(self) -> bool:
        # Every sync asset: a sync, with a sync record. The raw assets alone refresh them only.
        return set(SYNC_ASSETS) <= self.assets

    @property
    def fetch(self) -> bool:
        return bool({WORKFLOW_PAGES, WORKFLOW_EXPORTS} & self.assets)

    def wants(self, result: partition_events.Result) -> bool:
        if isinstance(result, dg.AssetCheckResult):
            return dg.AssetCheckKey(result.asset_key, result.check_name) in self.checks  # type: ignore[arg-type]
        return result.asset_key in self.assets

    def wants_checks_of(self, specs: list[dg.AssetCheckSpec]) -> bool:
        return any(spec.key in self.checks for spec in specs)


@dataclass
class Outcome:
    """One customer's part of the run: its results in order, its log lines, its failure."""

    name: str
    results: list[partition_events.Result] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def retryable(self) -> bool:
        if isinstance(self.error, dg.Failure):
            return self.error.allow_retries
        return self.error is not None and not isinstance(self.error, BlockedError) and not is_deterministic(self.error)

    def add(self, plan: Plan, stage: tuple[list[partition_events.Result], str]) -> None:
        results, line = stage
        self.results += [r for r in results if plan.wants(r)]
        self.lines.append(line)

    def blocked_by(self) -> list[str]:
        """Why each failed blocking check failed (its description, else its name)."""
        return [
            r.description or f"blocking check {r.check_name} failed"
            for r in self.results
            if isinstance(r, dg.AssetCheckResult)
            and not r.passed
            and r.severity == dg.AssetCheckSeverity.ERROR
            and dg.AssetCheckKey(r.asset_key, r.check_name or "") in _BLOCKING  # type: ignore[arg-type]
        ]


def _stages(engine: sa.Engine, zuora: ZuoraResource, customer: Customer, plan: Plan, outcome: Outcome) -> None:
    config = plan.config
    if plan.fetch:
        outcome.add(
            plan,
            fetch.fetch_stage(
                engine,
                zuora,
                customer,
                run_id=plan.run_id,
                full_refresh=config.full_refresh,
                whole_sync=plan.whole_sync,
            ),
        )
    elif plan.wants(active := fetch.active_result(customer)):
        outcome.results.append(active)
    _stop_if_blocked(engine, customer, plan, outcome, "workflows")
    if WORKFLOWS in plan.assets:
        outcome.add(
            plan,
            workflows.workflows_stage(
                engine,
                customer,
                run_id=plan.run_id,
                allow_mass_delete=config.allow_mass_delete,
                max_delete_share=config.max_delete_share,
            ),
        )
    if plan.wants_checks_of(WORKFLOWS_CHECK_SPECS):
        outcome.results += [r for r in workflows_checks(engine, customer) if plan.wants(r)]
    _stop_if_blocked(engine, customer, plan, outcome, "tasks")
    if WORKFLOW_TASKS in plan.assets:
        outcome.add(plan, tasks.tasks_stage(engine, customer, run_id=plan.run_id, everything=config.reextract_all))
    if plan.wants_checks_of(TASKS_CHECK_SPECS):
        outcome.results += [r for r in tasks_checks(engine, customer) if plan.wants(r)]


def _stop_if_blocked(engine: sa.Engine, customer: Customer, plan: Plan, outcome: Outcome, stage: str) -> None:
    """A failed blocking check ends the customer's sync before ``stage`` (a failed sync)."""
    if blocked := outcome.blocked_by():
        message = f"{'; '.join(blocked)} ({stage} not updated)"
        if plan.whole_sync:
            with write_transaction(engine) as conn:
                sync_runs.failed(conn, customer.id, plan.run_id, message)
        raise BlockedError(message)


def sync_customer(engine: sa.Engine, zuora: ZuoraResource, name: str, plan: Plan) -> Outcome:
    """One customer's whole part of the run; never raises (its failure is in the outcome)."""
    outcome = Outcome(name)
    try:
        customer = load_customer(engine, name)
        if customer.sync_status == customers.PAUSED:
            paused = fetch.paused_result(customer)
            if plan.wants(paused):
                outcome.results.append(paused)
            outcome.warnings.append(f"{name} is paused ({paused.description}): not synced, no Zuora call made")
            return outcome
        with customer_sync_lock(engine, customer.id):
            _stages(engine, zuora, customer, plan, outcome)
    except Exception as exc:  # reported per customer; the step fails at the end
        outcome.error = exc
    return outcome


def _earlier_run_ids(context: dg.AssetExecutionContext) -> list[str]:
    """This run and, for a re-execution from failure, the runs it re-executes."""
    run = context.run
    found = [run.run_id]
    while run.tags.get(RESUME_RETRY_TAG) == "true" and run.tags.get(PARENT_RUN_TAG) and len(found) < 20:
        parent = context.instance.get_run_by_id(run.tags[PARENT_RUN_TAG])
        if parent is None:
            break
        found.append(parent.run_id)
        run = parent
    return found


def _settled(context: dg.AssetExecutionContext, engine: sa.Engine, names: list[str]) -> dict[str, Outcome]:
    """Customers a retry leaves alone: synced already (an empty outcome), or failed in an earlier
    attempt of this run with an error waiting cannot cure (that failure, reported again)."""
    run_ids = _earlier_run_ids(context)
    if len(run_ids) == 1 and context.retry_number == 0:
        return {}
    with engine.connect() as conn:
        ids = {c.id: c.name for name in names if (c := customers.find(conn, name)) is not None}
        records = sync_runs.outcomes(conn, run_ids)
    settled: dict[str, Outcome] = {}
    for customer_id, rows in records.items():
        name = ids.get(customer_id)
        if name is None:
            continue
        if any(row["status"] == sync_runs.SUCCESS for row in rows):
            settled[name] = Outcome(name, lines=[f"{name}: already synced by this run or the one it re-executes"])
        elif any(
            row["run_id"] == context.run.run_id and row["status"] == sync_runs.FAILED and row["retryable"] is False
            for row in rows
        ):
            error = next(row["error_message"] for row in rows if row["run_id"] == context.run.run_id)
            settled[name] = Outcome(name, error=dg.Failure(description=f"{error} (not retried)", allow_retries=False))
    return settled


def _events(
    context: dg.AssetExecutionContext, outcome: Outcome
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation]:
    for line in outcome.lines:
        context.log.info(line)
    for line in outcome.warnings:
        context.log.warning(line)
    # The materialization each asset's checks judge, looked up once per asset.
    targets: dict[dg.AssetKey, partition_events.Target] = {}
    for result in outcome.results:
        if isinstance(result, dg.MaterializeResult):
            targets.pop(result.asset_key, None)
            yield partition_events.materialization(result, outcome.name)
        else:
            key = dg.AssetCheckKey(result.asset_key, result.check_name)  # type: ignore[arg-type]
            yield partition_events.check_evaluation(
                context.instance, result, outcome.name, blocking=key in _BLOCKING, targets=targets
            )


def _failure(outcomes: list[Outcome], total: int) -> BaseException:
    failed = [o for o in outcomes if o.error is not None]
    if total == 1 and len(failed) == 1:
        # A run of one customer fails exactly as that customer's stage did.
        error = failed[0].error
        assert error is not None
        if isinstance(error, BlockedError):
            return dg.Failure(description=str(error), metadata={"customer": failed[0].name}, allow_retries=False)
        return error
    errors = {o.name: _one_line(o.error) for o in failed}
    return dg.Failure(
        description=f"{len(failed)} of {total} customers failed: "
        + "; ".join(f"{name}: {error}" for name, error in errors.items()),
        metadata={FAILED_CUSTOMERS_KEY: dg.MetadataValue.json(errors)},
        allow_retries=any(o.retryable for o in failed),
    )


def _one_line(error: BaseException | None) -> str:
    text = (error.description if isinstance(error, dg.Failure) else str(error)) or type(error).__name__
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def _multi_asset(**kwargs: object):
    # ``backfill_policy`` is a beta parameter in Dagster 1.13 (a BetaWarning on every load):
    # silenced here, where we choose to rely on it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.multi_asset(**kwargs)  # type: ignore[arg-type]


@_multi_asset(
    name=SYNC_OP,
    specs=[*fetch.SPECS, workflows.SPEC, tasks.SPEC],
    check_specs=CHECK_SPECS,
    pool=API_POOL,
    retry_policy=SYNC_RETRY_POLICY,
    # Computes only the selected assets and checks; a paused customer yields none of them.
    can_subset=True,
    backfill_policy=dg.BackfillPolicy.multi_run(environment.customers_per_run()),
)
def sync_workflows_asset(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    warehouse: WarehouseResource,
    zuora: ZuoraResource,
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation]:
    engine = warehouse.engine()
    plan = Plan(
        run_id=context.run.run_id,
        assets=frozenset(context.selected_asset_keys),
        checks=frozenset(context.selected_asset_check_keys),
        config=config,
    )
    names = list(context.partition_keys)
    settled = _settled(context, engine, names)
    outcomes = list(settled.values())
    for outcome in settled.values():
        yield from _events(context, outcome)
    todo = [name for name in names if name not in settled]
    if len(todo) == 1:
        outcomes.append(sync_customer(engine, zuora, todo[0], plan))
        yield from _events(context, outcomes[-1])
    elif todo:
        at_once = min(len(todo), CUSTOMERS_AT_ONCE)
        context.log.info(f"syncing {len(todo)} customers, {at_once} at a time: {', '.join(todo)}")
        with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="customer") as pool:
            futures = [pool.submit(sync_customer, engine, zuora, name, plan) for name in todo]
            for future in as_completed(futures):
                outcomes.append(future.result())
                yield from _events(context, outcomes[-1])
    if any(o.error is not None for o in outcomes):
        raise _failure(outcomes, len(names))
