"""``zuora-pipeline workflows history|diff|graph|export``: one workflow's revisions, what changed
between two of them, its diagram, and a customer's workflows as files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zuora_pipeline.audit.files import ExportFilesError, WorkflowDocument, export_files, write_if_changed
from zuora_pipeline.cli import context
from zuora_pipeline.cli.exits import DIFFERENT, IDENTICAL, TroubleError, echo_json, trouble_exits_2
from zuora_pipeline.cli.times import utc_text
from zuora_pipeline.diagrams.model import diagram, title
from zuora_pipeline.diagrams.render import ENGINES, FORMATS, DiagramError, render
from zuora_pipeline.logic.workflow_diff import diff_states
from zuora_pipeline.warehouse import catalog, customers, history
from zuora_pipeline.warehouse.history import HistoryError


@click.group("workflows")
def workflows_group() -> None:
    """One workflow's history, diffs and diagram; a customer's workflows as files."""


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


# -o's suffix -> the format it names, when --format is not given.
SUFFIX_FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid"}


def _format(fmt: str | None, output: str | None) -> str:
    """--format, else the one -o's suffix names, else svg; a suffix naming another format than
    --format is refused (no PNG bytes in a .svg file)."""
    suffix = Path(output).suffix.lower() if output else ""
    implied = SUFFIX_FORMATS.get(suffix)
    if fmt is None:
        if suffix and implied is None:
            known = ", ".join(sorted(SUFFIX_FORMATS))
            raise TroubleError(f"cannot tell the format from {output!r} ({known}): pass --format")
        return implied or "svg"
    if implied is not None and implied != fmt:
        raise TroubleError(
            f"--format {fmt} contradicts the {suffix} of {output!r}: use a .{fmt} file or --format {implied}"
        )
    return fmt


@workflows_group.command("graph")
@click.argument("customer")
@click.argument("workflow_id", type=int)
@click.option("--revision", type=int, help="draw this revision (default: the newest)")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="default: the one -o's suffix names (.svg, .png, .dot/.gv, .mmd/.mermaid), else svg",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write here (default: stdout)")
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="auto",
    show_default=True,
    help="layout of svg/png: Graphviz `dot` when installed (auto), or grandalf (pure Python)",
)
def graph_command(
    customer: str, workflow_id: int, revision: int | None, fmt: str | None, output: str | None, engine: str
) -> None:
    """Draw WORKFLOW_ID: its tasks (name and action type, coloured by family) and linkages
    (labelled Success, Failure, True, False, Iterate, ...) from a Start node, under a title
    naming the customer, the workflow and the revision."""
    fmt = _format(fmt, output)
    with trouble_exits_2():
        engine_ = context.warehouse()
        with engine_.connect() as conn:
            found = customers.get(conn, customer)
            number, export, _ = history.revision_state(conn, found.id, workflow_id, revision)
            name = next((r.name for r in history.revisions(conn, found.id, workflow_id) if r.revision == number), "")
    if export is None:
        raise TroubleError(
            f"workflow {workflow_id} of {customer} has no export in revision {number} "
            "(Zuora has no active version of it): nothing to draw"
        )
    if fmt == "png" and not output and sys.stdout.isatty():
        raise TroubleError("a PNG is binary: write it to a file with -o FILE")
    try:
        body = render(diagram(export, title=title(customer, name, workflow_id, number)), fmt, engine=engine)
    except DiagramError as exc:
        raise TroubleError(str(exc)) from None
    if output:
        try:
            write_if_changed(Path(output), body)  # atomic: an interrupted command leaves the old file
        except OSError as exc:
            raise TroubleError(f"cannot write {output}: {exc.strerror or exc}") from None
        click.echo(f"wrote {output} ({len(body):,} bytes)", err=True)
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()


@workflows_group.command("export")
@click.argument("customer")
@click.option(
    "--workflow",
    "workflow_ids",
    type=int,
    multiple=True,
    metavar="ID",
    help="only this workflow (Zuora id; repeatable)",
)
@click.option(
    "-o", "--output", "directory", required=True, type=click.Path(file_okay=False, path_type=Path), help="directory"
)
def export_command(customer: str, workflow_ids: tuple[int, ...], directory: Path) -> None:
    """Write CUSTOMER's live workflows into a directory for git: one canonical JSON file per
    workflow (keys sorted, two-space indent, named <zuora id>-<slug of the name>.json) and
    index.json. A file whose content did not change is not rewritten, so exporting again with no
    change leaves the directory as it was; files of renamed or deleted workflows are removed."""
    with trouble_exits_2():
        engine = context.warehouse()
        with engine.connect() as conn:
            found = customers.get(conn, customer)
            live = catalog.live_ids(conn, found.id)
            missing = sorted(set(workflow_ids) - set(live))
            if missing:
                raise TroubleError(f"customer {customer} has no live workflow {', '.join(map(str, missing))}")
            documents = (
                WorkflowDocument(int(row.zuora_id), row.name, row.state, row.active_version, row.json_export)
                for row in catalog.documents(conn, found.id, sorted(set(workflow_ids)) or live)
            )
            try:
                report = export_files(directory, customer, documents, complete=not workflow_ids)
            except ExportFilesError as exc:
                raise TroubleError(str(exc)) from None
            except OSError as exc:
                raise TroubleError(f"cannot write into {directory}: {exc.strerror or exc}") from None
    files = len(report.written) + len(report.unchanged) - (1 if "index.json" in report.written else 0)
    click.echo(
        f"{customer}: {files} workflow files in {directory}: {len(report.written)} written, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed; "
        f"{len(report.without_export)} without an export (no active version in Zuora) listed in index.json only"
    )
