"""``zuora-pipeline search TEXT``: workflows and tasks across every customer's live workflows."""

from __future__ import annotations

import click
import sqlalchemy as sa

from zuora_pipeline.cli import console, context
from zuora_pipeline.cli.exits import echo_json, trouble_exits_2
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.search import DEFAULT_LIMIT, Hit, search, stored_action_types
from zuora_pipeline.zuora.action_types import ACTION_TYPES


def known_action_type(conn: sa.Connection, value: str) -> str:
    """``value`` as Zuora spells it (case-insensitive match), from the documented types and the
    ones stored tasks carry; one line listing the documented ones when it is neither."""
    for known in (ACTION_TYPES, stored_action_types(conn)):
        spelled = {t.casefold(): t for t in known}.get(value.strip().casefold())
        if spelled is not None:
            return spelled
    raise click.BadParameter(
        f"{value!r} is not an action type; one of: {', '.join(ACTION_TYPES)}",
        ctx=click.get_current_context(silent=True),
        param_hint="'--action-type'",
    )


def _line(hit: Hit) -> str:
    where = f"{hit.customer}  {hit.workflow_name} ({hit.workflow_id})"
    if hit.task_id is None:
        return f"{where}  in {', '.join(hit.matched)}"
    return f"{where}  {hit.task_name} [{hit.action_type}] ({hit.task_id})  in {', '.join(hit.matched)}"


@click.command("search")
@click.argument("text")
@click.option("--customer", "names", multiple=True, help="only this customer (repeatable)")
@click.option(
    "--action-type",
    metavar="TYPE",
    help="only tasks of this action type, e.g. Callout or Logic::Case (any case; no workflow-name hits)",
)
@click.option("--limit", type=click.IntRange(1), default=DEFAULT_LIMIT, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print JSON (a list of hits)")
def search_command(text: str, names: tuple[str, ...], action_type: str | None, limit: int, as_json: bool) -> None:
    """Tasks whose name or parameters, and workflows whose name, contain TEXT (case-insensitive):
    callout URLs, e-mail addresses, ZOQL queries, Liquid templates.

    Prints customer, workflow, task and where it matched (workflow_name, name, parameters.url,
    ...). Exit code 0 when something matched, 1 when nothing did ("no match" on stderr), 2 on
    error."""
    if not text.strip():
        raise click.BadParameter("give a non-empty TEXT to search for", param_hint="TEXT")
    with trouble_exits_2():
        engine = context.warehouse()
        with engine.connect() as conn:
            if action_type is not None:
                action_type = known_action_type(conn, action_type)
            ids = [customers.get(conn, name).id for name in names] if names else None
            hits = search(conn, text, customer_ids=ids, action_type=action_type, limit=limit + 1)
    truncated = len(hits) > limit
    hits = hits[:limit]
    if as_json:
        echo_json({"text": text, "hits": [h.to_json() for h in hits], "truncated": truncated})
    else:
        for h in hits:
            click.echo(_line(h))
    if truncated:
        console.notice(f"... stopped at {limit} hits (--limit)")
    if not hits:
        console.notice(f"no match for {text!r}" + (f" in tasks of type {action_type}" if action_type else ""))
    raise SystemExit(0 if hits else 1)
