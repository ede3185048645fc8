"""``zuora-pipeline sync`` and ``zuora-pipeline tasks reextract``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from zuora_pipeline.cli import context
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.customers import Customer

RECENT = timedelta(hours=1)


def _select(names: tuple[str, ...], all_: bool) -> list[Customer]:
    if bool(names) == all_:
        raise click.UsageError("give --customer NAME (repeatable) or --all")
    with context.warehouse().connect() as conn:
        if all_:
            return customers.list_all(conn)
        return [customers.get(conn, name) for name in names]


def _eligible(selected: list[Customer], *, force: bool) -> list[Customer]:
    """The seeds' rules: paused customers and customers synced within the hour are skipped
    with a message unless --force."""
    now = datetime.now(UTC)
    chosen = []
    for c in selected:
        if c.sync_status == customers.PAUSED and not force:
            click.echo(
                f"skip {c.name}: paused ({c.last_sync_error or 'by an operator'}); "
                f"`customers resume {c.name}` or --force"
            )
            continue
        last = c.last_synced_at
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        if not force and c.last_sync_status == "success" and last and now - last < RECENT:
            click.echo(
                f"skip {c.name}: synced at {last.isoformat(timespec='seconds')}, "
                "within the last hour (--force to sync anyway)"
            )
            continue
        chosen.append(c)
    return chosen


def print_stats_table(outcomes: list) -> None:  # list[SyncOutcome]
    from zuora_pipeline.defs.runner import STAT_KEYS

    header = f"{'CUSTOMER':<20} {'RESULT':<7} " + " ".join(f"{k.upper():>9}" for k in STAT_KEYS) + f" {'SECONDS':>8}"
    click.echo(header)
    for o in outcomes:
        cells = " ".join(f"{o.stats.get(k, 0):>9}" for k in STAT_KEYS)
        click.echo(f"{o.customer:<20} {'ok' if o.success else 'FAILED':<7} {cells} {o.seconds:>8.2f}")
    for o in outcomes:
        if not o.success:
            click.echo(f"{o.customer}: {o.error}", err=True)


@click.command("sync")
@click.option("--customer", "names", multiple=True, metavar="NAME", help="repeatable")
@click.option("--all", "all_", is_flag=True, help="every customer")
@click.option("--force", is_flag=True, help="sync even if paused or synced within the hour")
@click.option("--full-refresh", is_flag=True, help="re-export every workflow, not only changed ones")
@click.option("--allow-mass-delete", is_flag=True, help="let this sync soft-delete more than the shrink guard allows")
@click.option("--in-process", is_flag=True, help="run now in this process instead of queueing runs")
def sync_command(
    names: tuple[str, ...],
    all_: bool,
    force: bool,
    full_refresh: bool,
    allow_mass_delete: bool,
    in_process: bool,
) -> None:
    """Sync customers' workflows (queued Dagster runs, or --in-process)."""
    chosen = _eligible(_select(names, all_), force=force)
    if not chosen:
        click.echo("nothing to sync")
        return
    from zuora_pipeline.defs.runner import ensure_partitions

    instance = context.dagster_instance()
    ensure_partitions(instance, [c.name for c in chosen])
    if in_process:
        from zuora_pipeline.defs.runner import run_sync

        engine = context.warehouse()
        outcomes = []
        for c in chosen:
            outcomes.append(
                run_sync(instance, engine, c.name, full_refresh=full_refresh, allow_mass_delete=allow_mass_delete)
            )
        print_stats_table(outcomes)
        failed = [o.customer for o in outcomes if not o.success]
        if failed:
            raise click.ClickException(f"{len(failed)} of {len(outcomes)} syncs failed: {', '.join(failed)}")
        return
    from zuora_pipeline.defs.jobs import SYNC_JOB_NAME, sync_run_config
    from zuora_pipeline.defs.launcher import submit_runs

    run_ids = submit_runs(
        instance,
        job_name=SYNC_JOB_NAME,
        partition_keys=[c.name for c in chosen],
        run_config=sync_run_config(full_refresh=full_refresh, allow_mass_delete=allow_mass_delete),
        tags={"zuora/trigger": "cli"},
    )
    for c, run_id in zip(chosen, run_ids, strict=True):
        click.echo(f"queued run {run_id} for {c.name}")
    click.echo("the Dagster daemon launches queued runs (`dagster dev` or `dagster-daemon run`)")


@click.group("tasks")
def tasks_group() -> None:
    """Tasks extracted from the stored exports."""


@tasks_group.command("reextract")
@click.option("--all", "all_", is_flag=True)
@click.option("--customer", "name", metavar="NAME")
@click.option("--workflow-id", type=int, metavar="ID", help="a Zuora workflow id (any customer)")
def reextract_command(all_: bool, name: str | None, workflow_id: int | None) -> None:
    """Rebuild tasks from the stored exports without calling Zuora."""
    if sum([all_, name is not None, workflow_id is not None]) != 1:
        raise click.UsageError("give exactly one of --all, --customer NAME, --workflow-id ID")
    engine = context.warehouse()
    if workflow_id is not None:
        from zuora_pipeline.steps.tasks import extract_tasks

        result = extract_tasks(engine, workflow_zuora_id=workflow_id, everything=True)
        if result.workflows == 0:
            raise click.ClickException(f"no stored export for Zuora workflow id {workflow_id}")
        click.echo(f"workflow {workflow_id}: {result.upserted} tasks upserted, {result.deleted} removed")
        return
    from zuora_pipeline.defs.runner import ensure_partitions, run_reextract

    with engine.connect() as conn:
        targets = customers.names(conn) if all_ else [customers.get(conn, name).name]  # type: ignore[arg-type]
    instance = context.dagster_instance()
    ensure_partitions(instance, targets)
    failed = []
    for target in targets:
        result = run_reextract(instance, target)
        meta = {}
        for mat in result.asset_materializations_for_node("zuora__workflow_tasks"):
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
