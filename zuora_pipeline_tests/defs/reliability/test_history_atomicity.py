"""History and current state are one transaction: a connection killed between the ``workflows``
writes and the history writes leaves neither, and the retried step writes both."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import workflow_changes, workflow_revisions, workflows
from zuora_pipeline_tests.defs.reliability.support import synced_customer
from zuora_pipeline_tests.defs.reliability.test_warehouse_failures import connection_killer


def _state(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        current = {
            int(row.zuora_id): (row.json_export, row.name, row.state, row.description, row.active_version)
            for row in conn.execute(sa.select(workflows))
        }
        newest = {
            int(zid): export
            for zid, export in conn.execute(
                sa.select(workflow_revisions.c.workflow_zuora_id, workflow_revisions.c.json_export).where(
                    workflow_revisions.c.superseded_at.is_(None)
                )
            )
        }
        revisions = conn.execute(sa.select(sa.func.count()).select_from(workflow_revisions)).scalar_one()
        changes = conn.execute(sa.select(sa.func.count()).select_from(workflow_changes)).scalar_one()
    return {"current": current, "newest": newest, "revisions": revisions, "changes": changes}


def _agree(state: dict[str, Any]) -> None:
    assert set(state["newest"]) == set(state["current"])
    for zid, (export, *_) in state["current"].items():
        assert state["newest"][zid] == export, f"workflow {zid}: history and current state disagree"


def test_killed_between_state_and_history_writes_leaves_neither(pipeline: Any, sim_tenant: Any, pg_url: str) -> None:
    name, tenant = synced_customer(pipeline, sim_tenant, workflows=12, tasks=4)
    before = _state(pipeline.engine)
    _agree(before)
    mutation = pipeline.simulator.admin.mutate(tenant.name, add=2, update=4, delete=1, seed=5)
    statements: list[str] = []
    sa.event.listen(pipeline.engine, "before_cursor_execute", lambda c, cur, stmt, *a: statements.append(stmt))

    # Every attempt of the workflows step dies as it starts writing history: the run fails.
    with connection_killer(pipeline.engine, pg_url, "workflow_revisions", times=10) as killed:
        failed = pipeline.sync(name)

    assert not failed.success and len(killed) == 4, "expected the step and its 3 retries to be killed"
    # The kill came after this transaction had already written the workflows rows...
    first_history = next(i for i, s in enumerate(statements) if "INSERT INTO workflow_revisions" in s)
    assert any(s.lstrip().upper().startswith("INSERT INTO WORKFLOWS") for s in statements[:first_history])
    # ...and none of them survived: state and history are exactly as before.
    assert _state(pipeline.engine) == before

    with connection_killer(pipeline.engine, pg_url, "workflow_revisions", times=1) as killed:
        retried = pipeline.sync(name)
    assert retried.success, retried.error
    assert len(killed) == 1
    pipeline.assert_matches_truth(name, tenant.name)
    after = _state(pipeline.engine)
    _agree(after)
    # An update that only moved updatedAt (an edit of a version that is not the active one) is
    # no change of the definition: every other update got a revision and a change row.
    revised = [z for z in mutation.updated if after["current"][z] != before["current"][z]]
    assert after["revisions"] == before["revisions"] + len(mutation.added) + len(revised)
    assert after["changes"] == before["changes"] + len(mutation.added) + len(revised) + len(mutation.deleted)
