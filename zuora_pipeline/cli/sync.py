"""``zuora-pipeline sync`` and ``zuora-pipeline tasks reextract``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from zuora_pipeline.cli import console, context, preflight, process
from zuora_pipeline.cli.report import SyncReport, print_stats_table
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.customers import Customer

if TYPE_CHECKING:
    import dagster as dg
    import sqlalchemy as sa

__all__ = ["print_stats_table", "sync_command", "tasks_group"]  # the demo prints its table with ours

RECENT = timedelta(hours=1)


def _eligible(selected: list[Customer], *, force: bool) -> tuple[list[Customer], list[tuple[str, str]]]:
    """The Laravel system's rules: paused customers are skipped (a paused customer's sync makes no Zuora
    call, even with --force: resume it first), and customers synced within the hour unless --force;
    each with the reason."""
    now = datetime.now(UTC)
    chosen, skipped = [], []
    for c in selected:
        if c.sync_status == customers.PAUSED:
            why = c.paused_reason or c.last_sync_error or "by an operator"
            skipped.append((c.name, f"paused ({why}); `zuora-pipeline customers resume {c.name}` first"))
            continue
        last = c.last_synced_at
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        if not force and c.last_sync_status == "success" and last and now - last < RECENT:
            skipped.append(
                (
                    c.name,
                    f"synced at {last.isoformat(timespec='seconds')}, within the last hour (--force to sync anyway)",
                )
            )
            continue
        chosen.append(c)
    return chosen, skipped


@click.command("sync")
@click.option("--customer", "names", multiple=True, metavar="NAME", help="repeatable")
@click.option("--all", "all_", is_flag=True, help="every customer")
@click.option("--force", is_flag=True, help="sync even if synced within the hour")
@click.option("--full-refresh", is_flag=True, help="re-export every workflow, not only changed ones")
@click.option("--allow-mass-delete", is_flag=True, help="let this sync soft-delete more than the shrink guard allows")
@click.option("--in-process", is_flag=True, help="run now in this process instead of queueing runs")
@click.option("--wait", is_flag=True, help="queue the runs, then wait for them and report each one as it finishes")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=3600.0,
    show_default=True,
    metavar="SECONDS",
    help="with --wait: give up waiting after this long (the runs go on; exit 1)",
)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per customer per line (keys above)")
def sync_command(
    names: tuple[str, ...],
    all_: bool,
    force: bool,
    full_refresh: bool,
    allow_mass_delete: bool,
    in_process: bool,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Sync customers' workflows (queued Dagster runs, or --in-process).

    Before any run starts it checks that the warehouse schema is current and each named customer
    exists (and, with --in-process, that ZUORA_PIPELINE_SECRET_KEY decrypts each chosen
    customer's secret; queued runs use the key of the process that runs them): each problem is
    one `Error:` line on stderr, exit 1, no run created.

    Each customer's row is printed as soon as its sync finishes (with --in-process, or with
    --wait for queued runs); the exit code is 0 only if every sync succeeded.

    \b
    --json keys, one object per customer per line, always all present:
      customer, status (success|failed|skipped|queued|timeout), run_id, seconds,
      created, updated, unchanged, deleted, total, errors, api_calls, retries,
      error (why it failed, was skipped or timed out; else null)
    """
    if bool(names) == all_:
        raise click.UsageError("give --customer NAME (repeatable) or --all")
    if wait and in_process:
        raise click.UsageError("--wait is for queued runs; --in-process already waits")
    if not wait and click.get_current_context().get_parameter_source("timeout") is not ParameterSource.DEFAULT:
        raise click.UsageError("--timeout is how long --wait waits: add --wait (queued runs) or drop --timeout")
    engine = context.warehouse(check_schema=False)
    chosen, skipped = _eligible(preflight.select_customers(engine, names, all_=all_), force=force)
    if in_process:
        preflight.require_secrets(chosen)
    with SyncReport(as_json=as_json, total=len(chosen)) as report:
        for name, reason in skipped:
            report.skipped(name, reason)
        if not chosen:
            if not as_json:
                click.echo("nothing to sync")
            return
        if in_process:
            report.running("preparing")
            with process.startup_imports():
                from zuora_pipeline.runs.inprocess import code_location, ensure_partitions

                code_location()  # the run loads them: loaded here, without gc
                instance = context.dagster_instance()
            ensure_partitions(instance, [c.name for c in chosen])
            _run_in_process(report, instance, engine, chosen, full_refresh, allow_mass_delete)
        else:
            _queue(report, engine, chosen, full_refresh, allow_mass_delete, wait=wait, timeout=timeout)
    if not as_json and (in_process or wait):
        click.echo(report.summary())
    if report.failed:
        raise click.exceptions.Exit(1)


def _run_in_process(
    report: SyncReport,
    instance: dg.DagsterInstance,
    engine: sa.Engine,
    chosen: list[Customer],
    full_refresh: bool,
    allow_mass_delete: bool,
) -> None:
    from zuora_pipeline.runs.inprocess import run_sync

    log = console.settings()
    for number, c in enumerate(chosen, 1):
        report.running(f"syncing {c.name} ({number} of {len(chosen)})")
        outcome = run_sync(
            instance,
            engine,
            c.name,
            full_refresh=full_refresh,
            allow_mass_delete=allow_mass_delete,
            log_format=log.format,
            log_level=log.level,
        )
        report.finished(outcome)


def _queue(
    report: SyncReport,
    engine: sa.Engine,
    chosen: list[Customer],
    full_refresh: bool,
    allow_mass_delete: bool,
    *,
    wait: bool,
    timeout: float,
) -> None:
    """Sync requests in the warehouse, which the deployment's daemon turns into runs
    (``runs/submit.py``): no Dagster instance here."""
    from zuora_pipeline.runs import submit

    try:
        submit.require_watcher(engine)
    except submit.NotWatchedError as exc:
        raise click.ClickException(str(exc)) from None
    report.running("queueing")
    ids = submit.queue(engine, chosen, full_refresh=full_refresh, allow_mass_delete=allow_mass_delete)
    report.running("waiting for the Dagster daemon to make the runs")
    events = submit.follow(
        engine, ids, outcomes=wait, timeout_s=timeout if wait else submit.PICKUP_TIMEOUT_S, poll_s=submit.POLL_S
    )
    for event in events:
        if isinstance(event, submit.Queued):
            if not (wait and report.as_json):  # with --wait --json, one object per customer: its outcome
                report.queued(event.customer, event.run_id, awaited=wait)
            if wait:
                report.running("waiting for the queued runs")
        elif isinstance(event, submit.Finished):
            report.finished(event.outcome)
        else:
            report.timed_out(event.customer, event.run_id, event.reason)
    if not wait and not report.as_json and not report.failed:
        click.echo("the deployment's Dagster daemon launches the queued runs (`sync --wait` reports each outcome)")


@click.group("tasks")
def tasks_group() -> None:
    """Tasks extracted from the stored exports."""


@tasks_group.command("reextract")
@click.option("--all", "all_", is_flag=True, help="every customer")
@click.option("--customer", "name", metavar="NAME", help="this customer (with --workflow-id: only in this customer)")
@click.option(
    "--workflow-id",
    type=int,
    metavar="ID",
    help="a Zuora workflow id: in every customer that has it (each is named), or only in --customer's",
)
def reextract_command(all_: bool, name: str | None, workflow_id: int | None) -> None:
    """Rebuild tasks from the stored exports without calling Zuora."""
    if workflow_id is not None and all_:
        raise click.UsageError("--workflow-id re-extracts one workflow: drop --all (or --workflow-id)")
    if workflow_id is None and all_ == (name is not None):
        raise click.UsageError("give --all, --customer NAME or --workflow-id ID [--customer NAME]")
    engine = context.warehouse()
    if workflow_id is not None:
        _reextract_workflow(engine, workflow_id, name)
        return
    from zuora_pipeline.defs.keys import SYNC_OP
    from zuora_pipeline.defs.options import PipelineOptions
    from zuora_pipeline.runs.inprocess import ensure_partitions, run_reextract
    from zuora_pipeline.sync.results import WORKFLOW_TASKS

    with engine.connect() as conn:
        targets = customers.names(conn) if all_ else [customers.get(conn, name).name]  # type: ignore[arg-type]
    instance = context.dagster_instance()
    ensure_partitions(instance, targets)
    failed = []
    for target in targets:
        log = console.settings()
        result = run_reextract(instance, target, log_format=log.format, log_level=log.level)
        meta = {}
        for mat in result.asset_materializations_for_node(SYNC_OP):
            if mat.asset_key == PipelineOptions().key(WORKFLOW_TASKS):
                meta = {k: v.value for k, v in mat.metadata.items()}
        status = "ok" if result.success else "FAILED"
        click.echo(
            f"{target}: {status} ({meta.get('upserted', 0)} tasks upserted, "
            f"{meta.get('deleted', 0)} removed, 0 API calls)"
        )
        if not result.success:
            failed.append(target)
    if failed:
        raise click.ClickException(f"re-extraction failed for {', '.join(failed)}")


def _reextract_workflow(engine: sa.Engine, workflow_id: int, name: str | None) -> None:
    """One Zuora workflow id, in each customer that has it (or in ``name`` only): one line each.
    Zuora ids are per tenant, so the same id in several customers is several workflows."""
    from zuora_pipeline.sync.extract import extract_tasks
    from zuora_pipeline.warehouse.transactions import customer_sync_lock

    with engine.connect() as conn:
        holders = customers.with_workflow(conn, workflow_id)
        if name is not None:
            wanted = customers.get(conn, name)
            holders = [c for c in holders if c.id == wanted.id]
    if not holders:
        where = f"customer {name}" if name is not None else "any customer"
        raise click.ClickException(f"no stored export of Zuora workflow id {workflow_id} in {where}")
    for c in holders:
        # The customer's sync lock, as a sync takes it: a sync writing this workflow's tasks waits.
        with customer_sync_lock(engine, c.id):
            result = extract_tasks(engine, customer=c, workflow_zuora_id=workflow_id, everything=True)
        click.echo(f"{c.name}: workflow {workflow_id}: {result.upserted} tasks upserted, {result.deleted} removed")
    if len(holders) > 1:
        click.echo(
            f"workflow id {workflow_id} re-extracted in {len(holders)} customers (Zuora ids are per tenant); "
            f"`--customer NAME` limits it to one"
        )
