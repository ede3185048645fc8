"""``zuora-pipeline compare CUSTOMER_A CUSTOMER_B``: sandbox against production, workflow by
workflow and task by task."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from zuora_pipeline.audit.compare import Listed, compare_tenants
from zuora_pipeline.cli import context
from zuora_pipeline.cli.exits import DIFFERENT, IDENTICAL, TroubleError, echo_json, trouble_exits_2
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse import workflows as workflow_table


@click.command("compare")
@click.argument("customer_a")
@click.argument("customer_b")
@click.option("--workflow", "workflow_name", metavar="NAME", help="compare only the workflows of this name")
@click.option("--json", "as_json", is_flag=True, help="print the documented JSON form")
def compare_command(customer_a: str, customer_b: str, workflow_name: str | None, as_json: bool) -> None:
    """Compare the live workflows of two customers: only in A, only in B, identical, differing
    (with their task-level differences, A -> B).

    Workflows are matched by name; workflows sharing a name are paired by content (fewest
    differences first, then the oldest first). Tasks are matched by graph position, action type
    and name, never by id. Exit code 0 when identical, 1 when they differ, 2 on error (a --workflow
    NAME that neither customer has is an error)."""
    with trouble_exits_2():
        engine = context.warehouse()
        with engine.connect() as conn:
            found = {"a": customers.get(conn, customer_a), "b": customers.get(conn, customer_b)}
            listed = {
                side: [
                    Listed(int(r.zuora_id), r.name, r.state, r.created_on)
                    for r in workflow_table.live_listing(conn, customer.id, workflow_name)
                ]
                for side, customer in found.items()
            }
            if workflow_name is not None and not listed["a"] and not listed["b"]:
                # Nothing to compare is not "identical": a script would read a typo as a match.
                raise TroubleError(
                    f"no live workflow is named {workflow_name!r} in {customer_a} or {customer_b} "
                    "(the name must match exactly)"
                )

            def load(side: str, ids: Sequence[int]) -> dict[int, Any]:
                states = workflow_table.current_states(conn, found[side].id, list(ids))
                return {zid: export for zid, (export, _) in states.items()}

            result = compare_tenants(listed["a"], listed["b"], load)
    if as_json:
        echo_json({"customer_a": customer_a, "customer_b": customer_b, "workflow": workflow_name, **result.to_json()})
    else:
        click.echo(
            f"{customer_a} vs {customer_b}: {len(result.identical)} identical, {len(result.differing)} differing, "
            f"{len(result.only_in_a)} only in {customer_a}, {len(result.only_in_b)} only in {customer_b}"
        )
        for w in result.only_in_a:
            click.echo(f"only in {customer_a}: {w.name} ({w.zuora_id})")
        for w in result.only_in_b:
            click.echo(f"only in {customer_b}: {w.name} ({w.zuora_id})")
        for pair in result.differing:
            click.echo(f"differs: {pair.a.name} ({pair.a.zuora_id} -> {pair.b.zuora_id}): {pair.changes.summary()}")
            for line in pair.changes.lines():
                click.echo(line)
    sys.exit(IDENTICAL if result.same else DIFFERENT)
