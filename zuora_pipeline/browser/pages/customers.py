"""The customers page (sync state, freshness, counts) and a customer's workflows (search,
filters, sort on every column, pages)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from zuora_pipeline.audit.freshness import CustomerSync, freshness
from zuora_pipeline.browser import params
from zuora_pipeline.browser.pages import lookup
from zuora_pipeline.browser.templating import render, utc
from zuora_pipeline.warehouse import catalog
from zuora_pipeline.warehouse.catalog import SORTS, STATES, TRIGGERS, WorkflowFilter

PAGE_SIZES = ("25", "50", "100", "200")
DEFAULT_PAGE_SIZE = "50"
# Columns of the workflows table: (sort key, heading); every one sorts.
COLUMNS = (
    ("id", "Zuora id"),
    ("name", "Name"),
    ("state", "State"),
    ("version", "Version"),
    ("tasks", "Tasks"),
    ("created", "Created"),
    ("updated", "Updated"),
)


def customers_page(request: Request) -> Response:
    with request.app.state.engine.connect() as conn:
        rows = request.app.state.counts.summaries(conn)
    now = datetime.now(UTC)
    window = request.app.state.stale_after
    report = freshness(
        (CustomerSync(r.name, r.sync_status, utc(r.last_synced_at), r.paused_reason) for r in rows), now, window
    )
    return render(
        request,
        "customers.html",
        customers=rows,
        stale={c.name for c in report.stale},
        max_age_hours=f"{window.total_seconds() / 3600:g}",
        totals={"workflows": sum(r.workflows for r in rows), "tasks": sum(r.tasks for r in rows)},
    )


def workflows_page(request: Request) -> Response:
    since_text, since = params.since(request, "since")
    where = WorkflowFilter(
        text=params.text(request, "q"),
        state=params.choice(request, "state", ("", *STATES), "") or None,
        trigger=params.choice(request, "trigger", ("", *TRIGGERS), "") or None,
        changed_since=since,
        include_deleted=params.choice(request, "deleted", ("", "1"), "") == "1",
    )
    sort = params.choice(request, "sort", SORTS, "name")
    direction = params.choice(request, "dir", ("asc", "desc"), "asc")
    size = int(params.choice(request, "size", PAGE_SIZES, DEFAULT_PAGE_SIZE))
    page = params.page_number(request)
    with request.app.state.engine.connect() as conn:
        owner = lookup.customer(request, conn, request.path_params["name"])
        total = catalog.count(conn, owner.id, where)
        last = params.check_page(page, total, size)
        rows = catalog.page(
            conn, owner.id, where, sort=sort, descending=direction == "desc", offset=(page - 1) * size, limit=size
        )
    return render(
        request,
        "customer.html",
        customer=owner,
        rows=rows,
        total=total,
        page=page,
        last=last,
        size=size,
        sizes=PAGE_SIZES,
        sort=sort,
        direction=direction,
        columns=COLUMNS,
        where=where,
        since_text=since_text,
        states=STATES,
        triggers=tuple(TRIGGERS),
    )


routes = [
    Route("/customers", customers_page, name="customers"),
    Route("/customers/{name}", workflows_page, name="customer"),
]
