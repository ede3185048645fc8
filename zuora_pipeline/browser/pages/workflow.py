"""One workflow: its fields, triggers and tasks; its export (highlighted, copied, downloaded); its
diagram (with what changed since another revision marked); its history; the diff of two revisions."""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
import sqlalchemy as sa
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from zuora_pipeline.audit.files import canonical_json
from zuora_pipeline.browser import params
from zuora_pipeline.browser.pages import lookup
from zuora_pipeline.browser.params import NotFound
from zuora_pipeline.browser.templating import pretty, render
from zuora_pipeline.diagrams.model import Diagram, diagram, title
from zuora_pipeline.diagrams.render import DiagramError
from zuora_pipeline.diagrams.render import render as draw
from zuora_pipeline.logic.workflow_diff import WorkflowChanges, diff_states
from zuora_pipeline.warehouse import catalog, change_log, history, workflows
from zuora_pipeline.warehouse.catalog import WorkflowDetail
from zuora_pipeline.warehouse.history import HistoryError, Revision
from zuora_pipeline.warehouse.overview import CustomerSummary

TABS = (
    ("overview", "Overview"),
    ("export", "Export"),
    ("diagram", "Diagram"),
    ("history", "History"),
    ("diff", "Diff"),
)
# Export settings shown as fields (the rest of the export is on the Export tab).
SETTINGS = (
    ("type", "Type"),
    ("priority", "Priority"),
    ("interval", "Schedule (cron)"),
    ("timezone", "Time zone"),
    ("call_type", "Call type"),
    ("delete_ttl", "Delete TTL (days)"),
)
NESTED_SETTINGS = ("parameters", "notifications", "data")
_FILE_NAME_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True)
class Shown:
    """The revision a page shows: its number, export, state and name; for the current one, the
    export's bytes exactly as Zuora sent them (the stored JSON documents keep keys in
    PostgreSQL's order, these in Zuora's)."""

    revision: int
    export: dict[str, Any] | None
    state: str | None
    name: str
    current: bool
    sent: bytes | None = None


def _context(conn: sa.Connection, request: Request) -> tuple[CustomerSummary, WorkflowDetail, list[Revision]]:
    owner = lookup.customer(request, conn, request.path_params["name"])
    found = lookup.workflow(conn, owner, lookup.workflow_id(request.path_params["workflow"]))
    return owner, found, history.revisions(conn, owner.id, found.zuora_id)


def _stored_export(conn: sa.Connection, owner: CustomerSummary, found: WorkflowDetail) -> dict[str, Any] | None:
    if found.export_hash is None:
        return None
    return workflows.current_states(conn, owner.id, [found.zuora_id])[found.zuora_id][0]


def _shown(
    conn: sa.Connection, owner: CustomerSummary, found: WorkflowDetail, revisions: list[Revision], number: int | None
) -> Shown:
    """The revision asked for (404 if there is none), else the current state of the workflow."""
    newest = revisions[0].revision if revisions else None
    if number is None or number == newest:
        sent = (
            catalog.stored_export_bytes(conn, owner.id, found.zuora_id, found.export_hash)
            if found.export_hash
            else None
        )
        # The raw row is the export's own source; the parsed copy is the fallback.
        export = orjson.loads(sent) if sent is not None else _stored_export(conn, owner, found)
        return Shown(newest or 1, export, found.state, found.name, current=True, sent=sent)
    try:
        _, export, state = history.revision_state(conn, owner.id, found.zuora_id, number)
    except HistoryError:
        raise NotFound(f"workflow {found.zuora_id} of {owner.name} has no revision {number}") from None
    name = next(r.name for r in revisions if r.revision == number)
    return Shown(number, export, state, name, current=False)


def _page(request: Request, template: str, tab: str, **context: Any) -> Response:
    return render(request, template, tab=tab, tabs=TABS, **context)


def overview_page(request: Request) -> Response:
    action_type = params.text(request, "action_type", limit=80)
    with request.app.state.engine.connect() as conn:
        owner, found, revisions = _context(conn, request)
        tasks = catalog.task_rows(conn, found.id)
        shown = _shown(conn, owner, found, revisions, None)
    sent = {
        str(t.get("id")): t.get("parameters") for t in (shown.export or {}).get("tasks") or [] if isinstance(t, dict)
    }
    settings = (shown.export or {}).get("workflow") or {}
    return _page(
        request,
        "workflow.html",
        "overview",
        customer=owner,
        workflow=found,
        revisions=revisions,
        settings=[(label, settings.get(key)) for key, label in SETTINGS if key in settings],
        nested=[(key, settings[key]) for key in NESTED_SETTINGS if settings.get(key)],
        tasks=[
            (t, sent.get(str(t.zuora_id), t.parameters))
            for t in tasks
            if action_type is None or t.action_type == action_type
        ],
        all_tasks=len(tasks),
        action_types=sorted(Counter(t.action_type or "?" for t in tasks).items()),
        action_type=action_type,
    )


def _export_text(shown: Shown) -> bytes | None:
    """The bytes a download gives: the current export exactly as Zuora sent it; an older
    revision (kept as parsed JSON) in canonical form."""
    if shown.export is None:
        return None
    return shown.sent if shown.sent is not None else canonical_json(shown.export)


def export_page(request: Request) -> Response:
    number = params.optional_number(request, "revision", "the revision")
    with request.app.state.engine.connect() as conn:
        owner, found, revisions = _context(conn, request)
        shown = _shown(conn, owner, found, revisions, number)
    stored = _export_text(shown)
    # Shown as it downloads: the current export in Zuora's key order, an older one with keys sorted.
    text = None if stored is None else pretty(shown.export) if shown.sent is not None else stored.decode()
    return _page(
        request,
        "export.html",
        "export",
        customer=owner,
        workflow=found,
        revisions=revisions,
        shown=shown,
        text=text,
        size=len(stored or b""),
        explicit=number is not None,
    )


def download_name(name: str) -> str:
    return (_FILE_NAME_UNSAFE.sub("_", name).strip(" .") or "workflow")[:150] + ".json"


def download(request: Request) -> Response:
    number = params.optional_number(request, "revision", "the revision")
    with request.app.state.engine.connect() as conn:
        owner, found, revisions = _context(conn, request)
        shown = _shown(conn, owner, found, revisions, number)
    stored = _export_text(shown)
    if stored is None:
        raise NotFound(f"workflow {found.zuora_id} of {owner.name} has no export (Zuora has no active version of it)")
    filename = download_name(shown.name)
    # RFC 6266: an ASCII fallback for old clients, the real name percent-encoded for the others.
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(stored, media_type="application/json", headers={"Content-Disposition": disposition})


@dataclass(frozen=True)
class Drawn:
    svg: Markup
    model: Diagram
    changes: WorkflowChanges | None  # from the revision compared with


DrawnKey = tuple[int, int, int, int | None]  # customer, workflow, revision, revision compared with


class DiagramCache:
    """Drawn diagrams by (customer, workflow, revision, revision compared with): a revision never
    changes, so an entry never goes stale. Bounded, least recently used first out."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[DrawnKey, Drawn] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: DrawnKey) -> Drawn | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: DrawnKey, value: Drawn) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_SVG_START = re.compile(r"<svg\b[^>]*>", re.S)


def inline_svg(svg: str) -> Markup:
    """The renderer's SVG (Graphviz's or ours; every text in it escaped) as an element of the page:
    no XML prolog or comments, and sized by the page's CSS instead of its own width and height."""
    start = _SVG_START.search(svg)
    if start is None:
        raise DiagramError("the renderer returned no SVG")
    root = re.sub(r'\s(width|height)="[^"]*"', "", start.group(0))
    root = root.replace("<svg", '<svg class="diagram" role="img"', 1)
    body = re.sub(r"<!--.*?-->", "", svg[start.end() :], flags=re.S)
    return Markup(root + body)  # every text in it was escaped by the renderer


def diagram_page(request: Request) -> Response:
    number = params.optional_number(request, "revision", "the revision")
    compare = params.optional_number(request, "compare", "the revision to compare with")
    with request.app.state.engine.connect() as conn:
        owner, found, revisions = _context(conn, request)
        shown = _shown(conn, owner, found, revisions, number)
        base = _shown(conn, owner, found, revisions, compare) if compare is not None else None
    drawn: Drawn | None = None
    if shown.export is not None:
        key = (owner.id, found.zuora_id, shown.revision, base.revision if base else None)
        cache: DiagramCache = request.app.state.diagrams
        drawn = cache.get(key)
        if drawn is None:
            changes = None
            if base is not None:
                changes = diff_states(base.export, shown.export, old_state=base.state, new_state=shown.state)
            label = title(owner.name, shown.name, found.zuora_id, shown.revision)
            model = diagram(shown.export, title=label, changes=changes)
            drawn = Drawn(inline_svg(draw(model, "svg", dot=request.app.state.dot).decode()), model, changes)
            cache.put(key, drawn)
    tasks = {str(t.get("id")): t for t in (shown.export or {}).get("tasks") or [] if isinstance(t, dict)}
    return _page(
        request,
        "diagram.html",
        "diagram",
        customer=owner,
        workflow=found,
        revisions=revisions,
        shown=shown,
        base=base,
        drawn=drawn,
        nodes=[(n, tasks.get(n.task_id or "")) for n in drawn.model.nodes if n.task_id] if drawn else [],
    )


def history_page(request: Request) -> Response:
    with request.app.state.engine.connect() as conn:
        owner, found, revisions = _context(conn, request)
        logged = change_log.of_workflow(conn, owner.id, found.zuora_id)
    by_revision: dict[int, list[Any]] = {}
    for change in logged:
        if change.revision is not None and change.change in ("created", "updated"):
            by_revision.setdefault(change.revision, []).append(change)
    return _page(
        request,
        "history.html",
        "history",
        customer=owner,
        workflow=found,
        revisions=revisions,
        by_revision=by_revision,
        logged=logged,
    )


def diff_page(request: Request) -> Response:
    to_number = params.optional_number(request, "to", "the newer revision")
    from_number = params.optional_number(request, "from", "the older revision")
    with request.app.state.engine.connect() as conn:
        owner, found, revisions = _context(conn, request)
        newest = revisions[0].revision if revisions else 1
        to_number = to_number or newest
        if from_number is None and to_number == 1:
            return _page(request, "diff.html", "diff", customer=owner, workflow=found, revisions=revisions, pair=None)
        from_number = from_number or to_number - 1
        old = _shown(conn, owner, found, revisions, from_number)
        new = _shown(conn, owner, found, revisions, to_number)
    changes = diff_states(old.export, new.export, old_state=old.state, new_state=new.state)
    return _page(
        request,
        "diff.html",
        "diff",
        customer=owner,
        workflow=found,
        revisions=revisions,
        pair=(old, new),
        changes=changes,
    )


routes = [
    Route("/customers/{name}/workflows/{workflow}", overview_page, name="workflow"),
    Route("/customers/{name}/workflows/{workflow}/export", export_page, name="export"),
    Route("/customers/{name}/workflows/{workflow}/export.json", download, name="download"),
    Route("/customers/{name}/workflows/{workflow}/diagram", diagram_page, name="diagram"),
    Route("/customers/{name}/workflows/{workflow}/history", history_page, name="history"),
    Route("/customers/{name}/workflows/{workflow}/diff", diff_page, name="diff"),
]
