"""``zuora-pipeline changes``: the change log of every sync."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

from zuora_pipeline.cli import console, context
from zuora_pipeline.cli.exits import echo_json, trouble_exits_2
from zuora_pipeline.cli.times import utc_text
from zuora_pipeline.sync.history import CHANGE_KINDS
from zuora_pipeline.warehouse import customers, history
from zuora_pipeline.warehouse.history import iso

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# A first sync logs every workflow as created: hundreds of rows a terminal cannot show usefully.
DEFAULT_LIMIT = 100


def parse_since(text: str) -> datetime:
    """``7d``, ``12h``, ``30m``, ``2w`` back from now, or an ISO date/time (UTC if no zone)."""
    match = re.fullmatch(r"(\d+)([mhdw])", text.strip())
    if match:
        return datetime.now(UTC) - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: use 30m, 12h, 7d, 2w or an ISO date like 2026-11-30", param_hint="'--since'"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@click.command("changes")
@click.option("--customer", "names", multiple=True, help="only this customer (repeatable)")
@click.option("--since", default="7d", show_default=True, help="30m, 12h, 7d, 2w or an ISO date")
@click.option(
    "--change",
    "kinds",
    multiple=True,
    type=click.Choice(CHANGE_KINDS, case_sensitive=False),
    help="only this kind of change (repeatable)",
)
@click.option(
    "--limit",
    type=click.IntRange(0),
    default=None,
    metavar="N",
    help=f"show at most N changes, the newest [default: {DEFAULT_LIMIT}; with --json all]; 0: all",
)
@click.option("--json", "as_json", is_flag=True, help="print JSON (a list of changes, newest first)")
def changes_command(
    names: tuple[str, ...], since: str, kinds: tuple[str, ...], limit: int | None, as_json: bool
) -> None:
    """Workflows created, updated, deleted or restored, newest first, with the run that saw it.

    Says on stderr how many changes --limit left out."""
    start = parse_since(since)
    if limit is None:
        limit = 0 if as_json else DEFAULT_LIMIT
    chosen = [kind.lower() for kind in dict.fromkeys(kinds)] or None
    with trouble_exits_2():
        engine = context.warehouse()
        with engine.connect() as conn:
            ids = [customers.get(conn, name).id for name in names] if names else None
            found = history.changes(conn, customer_ids=ids, since=start, kinds=chosen, limit=limit or None)
            total = (
                history.count_changes(conn, customer_ids=ids, since=start, kinds=chosen)
                if limit and len(found) == limit
                else len(found)
            )
    omitted = total - len(found)
    if as_json:
        echo_json({"since": iso(start), "changes": [c.to_json() for c in found], "omitted": omitted})
    elif not found:
        kinds_shown = f" ({', '.join(chosen)})" if chosen else ""
        click.echo(f"no changes{kinds_shown} since {utc_text(start)}")
    else:
        for c in found:
            click.echo(
                f"{utc_text(c.changed_at)}  {c.customer}  {c.workflow_id}  {c.change:<8}  "
                f"{c.workflow_name}: {c.summary}  (run {c.run_id[:8]})"
            )
    if omitted:
        console.notice(
            f"{omitted} older change{'s' if omitted != 1 else ''} not shown (--limit {limit}; --limit 0 shows "
            "all, --change KIND keeps one kind)"
        )
