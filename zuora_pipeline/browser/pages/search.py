"""Search across customers: tasks whose name or parameters contain a text (the index and the
rules of ``zuora-pipeline search``), grouped by customer and workflow, with the match shown; the
first workflows found, so a common text costs no more than a rare one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from zuora_pipeline.browser import params
from zuora_pipeline.browser.pages import lookup
from zuora_pipeline.browser.templating import render
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.search import Hit
from zuora_pipeline.warehouse.search_pages import first_workflows

WORKFLOWS = 50  # workflows shown; more match: the page says so, and how to narrow the search
CONTEXT = 48  # characters shown either side of a match


@dataclass(frozen=True)
class Snippet:
    field: str  # "name", "parameters.url"
    before: str
    match: str
    after: str


@dataclass(frozen=True)
class Group:
    customer: str
    workflow_id: int
    workflow_name: str
    hits: list[tuple[Hit, list[Snippet]]]


def _value(document: Any, dotted: str) -> Any:
    """The value at "parameters.a.b[2].c" in {"parameters": ...}; None if the path is not there."""
    current = document
    for part in dotted.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("[") and isinstance(current, list):
            index = int(part[1:-1])
            current = current[index] if index < len(current) else None
        elif isinstance(current, dict):
            current = current.get(part)
        else:
            return None
    return current


def snippet(field: str, value: Any, needle: str) -> Snippet:
    text = value if isinstance(value, str) else str(value)
    at = text.lower().find(needle.lower())
    if at < 0:  # matched the key, or only case-folded: show the start of the value
        return Snippet(field, "", "", text[: 2 * CONTEXT])
    end = at + len(needle)
    before = ("…" if at > CONTEXT else "") + text[max(0, at - CONTEXT) : at]
    after = text[end : end + CONTEXT] + ("…" if len(text) > end + CONTEXT else "")
    return Snippet(field, before, text[at:end], after)


def _snippets(hit: Hit, parameters: Any, needle: str) -> Iterator[Snippet]:
    for field in hit.matched:
        if field == "name":
            yield snippet(field, hit.task_name or "", needle)
        else:
            found = _value({"parameters": parameters}, field)
            yield snippet(field, found if found is not None else field, needle)


def search_page(request: Request) -> Response:
    text = params.text(request, "q")
    name = params.text(request, "customer", limit=64)
    action_type = params.text(request, "action_type", limit=80)
    groups: list[Group] = []
    more = False
    with request.app.state.engine.connect() as conn:
        names = customers.names(conn)
        if text is not None:
            ids = [lookup.customer(request, conn, name).id] if name else None
            found = first_workflows(conn, text, customer_ids=ids, action_type=action_type, workflows_wanted=WORKFLOWS)
            more = found.more
            for hit, parameters in found.hits:
                key = (hit.customer, hit.workflow_id)
                if not groups or (groups[-1].customer, groups[-1].workflow_id) != key:
                    groups.append(Group(hit.customer, hit.workflow_id, hit.workflow_name, []))
                groups[-1].hits.append((hit, list(_snippets(hit, parameters, text))))
    return render(
        request,
        "search.html",
        text=text,
        customer=name,
        action_type=action_type,
        names=sorted(names),
        groups=groups,
        count=sum(len(g.hits) for g in groups),
        more=more,
        limit=WORKFLOWS,
    )


routes = [Route("/search", search_page, name="search")]
