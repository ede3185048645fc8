"""Compare two customers (sandbox against production): only in A, only in B, differing, identical,
paired by the rules of ``zuora-pipeline compare``; each differing pair side by side."""

from __future__ import annotations

from concurrent.futures import wait

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from zuora_pipeline.browser import params
from zuora_pipeline.browser.compare_jobs import CompareJobs
from zuora_pipeline.browser.pages import lookup
from zuora_pipeline.browser.params import BadRequest, NotFound
from zuora_pipeline.browser.templating import render
from zuora_pipeline.logic.workflow_diff import diff_states
from zuora_pipeline.warehouse import customers, workflows

# A comparison that finishes this fast is shown at once instead of a progress page.
WAIT_S = 0.1


def _pair(request: Request) -> tuple[str | None, str | None]:
    a, b = params.text(request, "a", limit=64), params.text(request, "b", limit=64)
    if (a is None) != (b is None):
        raise BadRequest("choose two customers, a and b")
    if a is not None and a == b:
        raise BadRequest("choose two different customers to compare")
    return a, b


def compare_page(request: Request) -> Response:
    a_name, b_name = _pair(request)
    workflow = params.text(request, "workflow")
    with request.app.state.engine.connect() as conn:
        names = customers.names(conn)
        if a_name is None or b_name is None:
            return render(request, "compare.html", names=sorted(names), a=None, b=None, workflow=workflow, job=None)
        a, b = (
            lookup.customer(request, conn, a_name),
            lookup.customer(request, conn, b_name),
        )
        jobs: CompareJobs = request.app.state.compare_jobs
        job = jobs.job(a, b, workflow)
    # A failed comparison is shown by the page (its error is in the server's log).
    done, _ = wait([job.future], timeout=WAIT_S)
    if done and job.future.exception() is None:
        result = job.result()
        if workflow is not None and not (result.only_in_a or result.only_in_b or result.identical or result.differing):
            raise NotFound(f"neither {a.name} nor {b.name} has a live workflow named {workflow[:80]!r}")
    return render(request, "compare.html", names=sorted(names), a=a, b=b, workflow=workflow, job=job)


def side_by_side(request: Request) -> Response:
    a_name, b_name = _pair(request)
    if a_name is None or b_name is None:
        raise BadRequest("choose two customers, a and b")
    wa = params.whole_number(request.query_params.get("wa", ""), "wa (a workflow id of customer a)", low=1)
    wb = params.whole_number(request.query_params.get("wb", ""), "wb (a workflow id of customer b)", low=1)
    with request.app.state.engine.connect() as conn:
        a, b = (
            lookup.customer(request, conn, a_name),
            lookup.customer(request, conn, b_name),
        )
        left, right = lookup.workflow(conn, a, wa), lookup.workflow(conn, b, wb)
        if left.deleted_at is not None or right.deleted_at is not None:
            raise NotFound("compare shows live workflows: this one is deleted")
        (a_export, a_state), (b_export, b_state) = (
            workflows.current_states(conn, a.id, [wa])[wa],
            workflows.current_states(conn, b.id, [wb])[wb],
        )
    # As `compare` pairs tasks between tenants: by graph position, action type and name, never ids.
    changes = diff_states(a_export, b_export, old_state=a_state, new_state=b_state, by_id=False)
    return render(request, "compare_pair.html", a=a, b=b, left=left, right=right, changes=changes)


routes = [
    Route("/compare", compare_page, name="compare"),
    Route("/compare/pair", side_by_side, name="compare_pair"),
]
