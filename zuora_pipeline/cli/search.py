"""``zuora-pipeline search TEXT``: tasks across every customer's live workflows."""

from __future__ import annotations

import click

from zuora_pipeline.cli import context
from zuora_pipeline.cli.exits import echo_json, trouble_exits_2
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.search import DEFAULT_LIMIT, search


@click.command("search")
@click.argument("text")
@click.option("--customer", "names", multiple=True, help="only this customer (repeatable)")
@click.option("--action-type", metavar="TYPE", help="only tasks of this action type, e.g. Callout")
@click.option("--limit", type=click.IntRange(1), default=DEFAULT_LIMIT, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print JSON (a list of hits)")
def search_command(text: str, names: tuple[str, ...], action_type: str | None, limit: int, as_json: bool) -> None:
    """Tasks whose name or parameters contain TEXT (case-insensitive): callout URLs, e-mail
    addresses, ZOQL queries, Liquid templates. Prints customer, workflow, task and where it
    matched. Exit code 0 when something matched, 1 when nothing did, 2 on error."""
    if not text.strip():
        raise click.BadParameter("give a non-empty TEXT to search for", param_hint="TEXT")
    with trouble_exits_2():
        engine = context.warehouse()
        with engine.connect() as conn:
            ids = [customers.get(conn, name).id for name in names] if names else None
            hits = search(conn, text, customer_ids=ids, action_type=action_type, limit=limit)
    if as_json:
        echo_json({"text": text, "hits": [h.to_json() for h in hits], "truncated": len(hits) == limit})
    else:
        for h in hits:
            click.echo(
                f"{h.customer}  {h.workflow_name} ({h.workflow_id})  {h.task_name} [{h.action_type}] "
                f"({h.task_id})  in {', '.join(h.matched)}"
            )
        if len(hits) == limit:
            click.echo(f"... stopped at {limit} hits (--limit)", err=True)
    raise SystemExit(0 if hits else 1)
