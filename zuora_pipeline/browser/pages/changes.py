"""Recent changes across customers: workflows created, updated, deleted or restored, newest
first, filterable by customer, kind and age, a page at a time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from zuora_pipeline.browser import params
from zuora_pipeline.browser.pages import lookup
from zuora_pipeline.browser.params import NotFound
from zuora_pipeline.browser.templating import render
from zuora_pipeline.warehouse import change_log, customers

PAGE_SIZE = 100
DEFAULT_SINCE = "7d"


def changes_page(request: Request) -> Response:
    name = params.text(request, "customer", limit=64)
    kind = params.choice(request, "change", ("", *change_log.KINDS), "") or None
    since_text, since = params.since(request, "since", DEFAULT_SINCE)
    page = params.page_number(request)
    with request.app.state.engine.connect() as conn:
        names = customers.names(conn)
        ids = [lookup.customer(request, conn, name).id] if name else None
        rows = change_log.page(
            conn,
            customer_ids=ids,
            kinds=[kind] if kind else None,
            since=since,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE + 1,
        )
    if page > 1 and not rows:
        raise NotFound(f"page {page:,} of the changes is empty: go back to page 1")
    return render(
        request,
        "changes.html",
        rows=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE,
        page=page,
        names=sorted(names),
        customer=name,
        kind=kind,
        kinds=change_log.KINDS,
        since_text=since_text,
    )


routes = [Route("/changes", changes_page, name="changes")]
