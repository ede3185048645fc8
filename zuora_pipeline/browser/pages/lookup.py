"""What every page looks up first: the customer and the workflow in the URL, or a 404/400."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request

from zuora_pipeline.browser.counts_cache import CountsCache
from zuora_pipeline.browser.params import NotFound, whole_number
from zuora_pipeline.warehouse import catalog
from zuora_pipeline.warehouse.catalog import WorkflowDetail
from zuora_pipeline.warehouse.overview import CustomerSummary


def customer(request: Request, conn: sa.Connection, name: str) -> CustomerSummary:
    counts: CountsCache = request.app.state.counts
    found = counts.summary(conn, name)
    if found is None:
        raise NotFound(f"there is no customer named {name[:80]!r}")
    return found


def workflow_id(text: str) -> int:
    return whole_number(text, "a workflow id (its Zuora id)", low=1)


def workflow(conn: sa.Connection, owner: CustomerSummary, zuora_id: int) -> WorkflowDetail:
    found = catalog.detail(conn, owner.id, zuora_id)
    if found is None:
        raise NotFound(f"customer {owner.name} has no workflow {zuora_id}")
    return found
