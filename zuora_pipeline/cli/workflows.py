"""``zuora-pipeline workflows history|diff|graph``: one workflow's revisions, what changed between
two of them, and its diagram."""

from __future__ import annotations

import sys

import click

from zuora_pipeline.cli import context
from zuora_pipeline.cli.exits import DIFFERENT, IDENTICAL, TroubleError, echo_json, trouble_exits_2
from zuora_pipeline.cli.times import utc_text
from zuora_pipeline.diagrams.model import diagram
from zuora_pipeline.diagrams.render import ENGINES, FORMATS, DiagramError, render
from zuora_pipeline.logic.workflow_diff import diff_states
from zuora_pipeline.warehouse import customers, history
from zuora_pipeline.warehouse.history import HistoryError


@click.group("workflows")
def workflows_group() -> None:
    """One workflow's history, diffs and diagram."""


@workflows_group.command("history")
@click.argument("customer")
@click.argument("workflow_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="print JSON (a list of revisions, newest first)")
def history_command(customer: str, workflow_id: int, as_json: bool) -> None:
    """Every revision of WORKFLOW_ID (its Zuora id), newest first."""
    with trouble_exits_2():
        engine = context.warehouse()
        with engine.connect() as conn:
            found = customers.get(conn, customer)
            revisions = history.revisions(conn, found.id, workflow_id)
        if not revisions:
            raise HistoryError(f"workflow {workflow_id} is not in the history of customer {customer!r}")
    if as_json:
        echo_json({"customer": customer, "workflow_id": workflow_id, "revisions": [r.to_json() for r in revisions]})
        return
    click.echo(f"{'rev':>4}  {'first seen':<23}  {'last seen':<23}  {'version':<8}  {'state':<8}  tasks  name")
    for r in revisions:
        tasks = "-" if r.task_count is None else r.task_count
        click.echo(
            f"{r.revision:>4}  {utc_text(r.first_seen_at)}  {utc_text(r.last_seen_at)}  "
            f"{r.active_version or '-':<8}  {r.state or '-':<8}  {tasks:>5}  {r.name}"
        )


@workflows_group.command("diff")
@click.argument("customer")
@click.argument("workflow_id", type=int)
@click.option("--from", "from_rev", type=int, help="older revision (default: the one before --to)")
@click.option("--to", "to_rev", type=int, help="newer revision (default: the newest)")
@click.option("--json", "as_json", is_flag=True, help="print the documented JSON form")
def diff_command(customer: str, workflow_id: int, from_rev: int | None, to_rev: int | None, as_json: bool) -> None:
    """What changed in WORKFLOW_ID between two revisions: tasks added, removed and changed (field by
    field, parameters included), linkages added and removed, settings changed.

    Exit code 0 when identical, 1 when they differ, 2 on error."""
    with trouble_exits_2():
        engine = context.warehouse()
        with engine.connect() as conn:
            found = customers.get(conn, customer)
            to_number, new_export, new_state = history.revision_state(conn, found.id, workflow_id, to_rev)
            if from_rev is None:
                if to_number == 1:
                    raise HistoryError(f"workflow {workflow_id} has only revision 1: nothing to diff it with")
                from_rev = to_number - 1
            from_number, old_export, old_state = history.revision_state(conn, found.id, workflow_id, from_rev)
    changes = diff_states(old_export, new_export, old_state=old_state, new_state=new_state)
    if as_json:
        echo_json(
            {
                "customer": customer,
                "workflow_id": workflow_id,
                "from_revision": from_number,
                "to_revision": to_number,
                **changes.to_json(),
            }
        )
    else:
        click.echo(f"{customer} workflow {workflow_id}: revision {from_number} -> {to_number}: {changes.summary()}")
        for line in changes.lines():
            click.echo(line)
    sys.exit(IDENTICAL if changes.identical else DIFFERENT)


@workflows_group.command("graph")
@click.argument("customer")
@click.argument("workflow_id", type=int)
@click.option("--revision", type=int, help="draw this revision (default: the newest)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="svg", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="write here (default: stdout)")
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="auto",
    show_default=True,
    help="layout of svg/png: Graphviz `dot` when installed (auto), or grandalf (pure Python)",
)
def graph_command(
    customer: str, workflow_id: int, revision: int | None, fmt: str, output: str | None, engine: str
) -> None:
    """Draw WORKFLOW_ID: its tasks (name and action type, coloured by family) and linkages
    (labelled Success, Failure, True, False, Iterate, ...) from a Start node."""
    with trouble_exits_2():
        engine_ = context.warehouse()
        with engine_.connect() as conn:
            found = customers.get(conn, customer)
            number, export, _ = history.revision_state(conn, found.id, workflow_id, revision)
            name = next((r.name for r in history.revisions(conn, found.id, workflow_id) if r.revision == number), "")
    try:
        body = render(diagram(export, title=f"{name} (workflow {workflow_id}, revision {number})"), fmt, engine=engine)
    except DiagramError as exc:
        raise TroubleError(str(exc)) from None
    if output:
        with open(output, "wb") as handle:
            handle.write(body)
        click.echo(f"wrote {output} ({len(body):,} bytes)", err=True)
        return
    if fmt == "png" and sys.stdout.isatty():
        raise TroubleError("a PNG is binary: write it to a file with -o FILE")
    sys.stdout.flush()
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()
