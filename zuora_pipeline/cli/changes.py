"""``zuora-pipeline changes``: the change log of every sync."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

from zuora_pipeline.cli import context
from zuora_pipeline.cli.exits import echo_json, trouble_exits_2
from zuora_pipeline.warehouse import customers, history
from zuora_pipeline.warehouse.history import iso

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> datetime:
    """``7d``, ``12h``, ``30m``, ``2w`` back from now, or an ISO date/time (UTC if no zone)."""
    match = re.fullmatch(r"(\d+)([mhdw])", text.strip())
    if match:
        return datetime.now(UTC) - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r}: use 30m, 12h, 7d, 2w or an ISO date like 2026-11-30") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@click.command("changes")
@click.option("--customer", "names", multiple=True, help="only this customer (repeatable)")
@click.option("--since", default="7d", show_default=True, help="30m, 12h, 7d, 2w or an ISO date")
@click.option("--json", "as_json", is_flag=True, help="print JSON (a list of changes, newest first)")
def changes_command(names: tuple[str, ...], since: str, as_json: bool) -> None:
    """Workflows created, updated, deleted or restored, newest first, with the run that saw it."""
    start = parse_since(since)
    with trouble_exits_2():
        engine = context.warehouse()
        with engine.connect() as conn:
            ids = [customers.get(conn, name).id for name in names] if names else None
            found = history.changes(conn, customer_ids=ids, since=start)
    if as_json:
        echo_json({"since": iso(start), "changes": [c.to_json() for c in found]})
        return
    if not found:
        click.echo(f"no changes since {iso(start)}")
        return
    for c in found:
        click.echo(
            f"{iso(c.changed_at)[:19]}  {c.customer}  {c.workflow_id}  {c.change:<8}  "
            f"{c.workflow_name}: {c.summary}  (run {c.run_id[:8]})"
        )
