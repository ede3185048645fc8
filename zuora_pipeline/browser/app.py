"""The browser's Starlette application: routes, static files, security headers, error pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.exc
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from zuora_pipeline.browser.compare_jobs import CompareJobs
from zuora_pipeline.browser.counts_cache import CountsCache
from zuora_pipeline.browser.headers import SECURITY_HEADERS, SecurityHeaders
from zuora_pipeline.browser.pages import changes, compare, customers, search, workflow
from zuora_pipeline.browser.templating import render
from zuora_pipeline.config import DEFAULT_STALE_AFTER
from zuora_pipeline.diagrams.dot_process import DotProcess

log = logging.getLogger(__name__)
REASONS = {400: "Bad request", 404: "Not found", 405: "Not allowed", 500: "Something went wrong", 503: "Unavailable"}


def _home(_request: Request) -> Response:
    return RedirectResponse("/customers", status_code=307)


def _error_page(request: Request, status: int, detail: str) -> Response:
    return render(request, "error.html", status=status, code=status, reason=REASONS.get(status, "Error"), detail=detail)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.status_code in (400, 404) else REASONS.get(exc.status_code, "Error")
    if exc.status_code == 404 and detail == "Not Found":  # Starlette's own, for a path no route has
        detail = f"there is no page at {request.url.path[:120]}"
    response = _error_page(request, exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    """Never a stack trace on a page: it goes to the server's log. (This page is made outside the
    middleware, so it gets the security headers here.)"""
    if isinstance(exc, sqlalchemy.exc.OperationalError):
        log.error("warehouse unreachable: %s", str(exc.orig).strip().splitlines()[:1])
        response = _error_page(request, 503, "the warehouse cannot be reached right now; try again shortly")
    else:
        log.error("error on %s", request.url.path, exc_info=exc)
        response = _error_page(request, 500, "the page could not be built; the error is in the server's log")
    response.headers.update(SECURITY_HEADERS)
    return response


def create_app(
    engine: sa.Engine, *, dagster_url: str | None = None, stale_after: timedelta = DEFAULT_STALE_AFTER
) -> Starlette:
    """``engine`` should be read-only (``warehouse.readonly``); ``dagster_url`` links each customer
    to its partition in the Dagster UI; ``stale_after`` is the staleness window of the pipeline."""
    jobs = CompareJobs(engine)
    dot = DotProcess()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        jobs.shutdown()
        dot.close()

    app = Starlette(
        routes=[
            Route("/", _home),
            *customers.routes,
            *workflow.routes,
            *compare.routes,
            *search.routes,
            *changes.routes,
            Mount("/static", StaticFiles(packages=[("zuora_pipeline.browser", "static")]), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.dagster_url = dagster_url.rstrip("/") if dagster_url else None
    app.state.stale_after = stale_after
    app.state.compare_jobs = jobs
    app.state.counts = CountsCache()
    app.state.diagrams = workflow.DiagramCache()
    app.state.dot = dot  # one Graphviz process draws every diagram: no start-up per diagram
    return app
