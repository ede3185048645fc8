"""The ``browse`` scenario: the server time of each page type of the workflow browser on 10 customers
x 2,000 workflows x 20 tasks in PostgreSQL, and the plans of its list queries at that scale.

The warehouse is loaded the way a sync loads it, without HTTP: the simulator's data generator makes
each tenant's definitions and exports, the listing pages and exports are landed in the raw tables
as the fetch would land them, then the sync's own stages apply the listing (rows, history, change
log) and extract the tasks. A second round edits 1% of each customer's workflows, so there are
revisions, diffs and a change log to show. Customers 0 and 1 are one tenant and its copy (the same
definitions under other ids): the compare pair. Workflow names are numbered so that each is one
workflow's (see ``_tenant``).

Each page is requested over HTTP from the browser served by uvicorn in this process, over a
read-only engine, and timed by the app itself (its ``Server-Timing`` header: from the request to
the response's first byte, page built). Diagrams are timed cold (nothing drawn before) and cached.
"""

from __future__ import annotations

import math
import random
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
import uvicorn

from zuora_pipeline.bench.env import BenchEnv
from zuora_pipeline.bench.results import ScenarioResult
from zuora_pipeline.bench.warehouse_scenario import _postgres
from zuora_pipeline.browser.app import create_app
from zuora_pipeline.browser.counts_cache import CountsCache
from zuora_pipeline.browser.headers import SERVER_TIMING
from zuora_pipeline.browser.pages.workflow import DiagramCache
from zuora_pipeline.logic.hashing import export_hash
from zuora_pipeline.logic.normalize import list_fingerprint
from zuora_pipeline.simulator import render
from zuora_pipeline.simulator.datagen import IdSequences, generate_definitions
from zuora_pipeline.simulator.exports import build_export
from zuora_pipeline.simulator.model import WorkflowDef
from zuora_pipeline.sync.apply import apply_listing
from zuora_pipeline.sync.extract import extract_tasks
from zuora_pipeline.warehouse import catalog, change_log, customers, overview, raw
from zuora_pipeline.warehouse.catalog import WorkflowFilter
from zuora_pipeline.warehouse.readonly import create_readonly_engine
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline.zuora.models import parse_list_item

CUSTOMERS = 10
WORKFLOWS = 2_000
TASKS = 20
EDITED_SHARE = 0.01
PAGE_LENGTH = 50  # workflows per landed listing page, as the sync asks Zuora for
SAMPLES_PER_REPEAT = 20  # requests per page type and --repeat
MEDIAN_GOAL_MS, P95_GOAL_MS = 50.0, 150.0
COMPARE_TIMEOUT_S = 600


@dataclass
class Tenant:
    """One customer's generated workflows: definitions, and the export each serves now."""

    name: str
    definitions: list[WorkflowDef]
    exports: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    edited: list[int] = field(default_factory=list)
    big: int | None = None  # the 60-task workflow


def _tenant(name: str, seed: int, workflows: int, id_base: int) -> Tenant:
    # The same seed with other id sequences: the same workflows under other ids (a tenant's copy).
    rng = random.Random(f"browse-bench:{seed}")
    ids = IdSequences(next_workflow_id=id_base + 1_001, next_task_id=id_base * 50 + 50_001)
    definitions = generate_definitions(rng, ids, workflows, TASKS)
    for number, definition in enumerate(definitions, 1):
        # The generator repeats each of its ~20 names ~50 times in 2,000 workflows, to exercise
        # the pairing of same-named workflows; tenants rarely do, and `compare` diffs every
        # pairing of a name's workflows (2 x 50 -> 2,500 diffs a name). Numbered, a name is one
        # workflow's, as in most tenants.
        definition.name = f"{definition.name} ({number})"
        for each in definition.versions:
            each.name = definition.name
    tenant = Tenant(name, definitions)
    for definition in definitions:
        version = definition.active_version()
        export = build_export(version) if version is not None else None
        tenant.exports[definition.id] = export
        if export is not None and len(export["tasks"]) == 60:
            tenant.big = definition.id
    return tenant


def _edit(tenant: Tenant, seed: int) -> None:
    """1% of the workflows with an export: a parameter of one task, the name of another (an edit
    in Zuora's editor bumps the definition's updatedAt)."""
    rng = random.Random(f"browse-bench-edit:{seed}")
    candidates = [d for d in tenant.definitions if (tenant.exports[d.id] or {}).get("tasks")]
    for definition in rng.sample(candidates, max(1, round(len(candidates) * EDITED_SHARE))):
        export = tenant.exports[definition.id]
        assert export is not None
        tasks = export["tasks"]
        tasks[0]["parameters"]["edited_by_bench"] = f"https://hooks.example.com/{uuid.uuid4().hex[:8]}"
        tasks[-1]["name"] = f"{tasks[-1]['name']} (edited)"
        definition.updated_at += 60_000
        tenant.edited.append(definition.id)


def _land(engine: sa.Engine, customer: customers.Customer, tenant: Tenant) -> None:
    """What the fetch stage lands (listing pages, exports), then the sync's own later stages."""
    run_id = f"bench-{uuid.uuid4().hex[:12]}"
    now = datetime.now(UTC)
    items = [render.list_item(d, "null") for d in tenant.definitions]
    pages = [
        raw.RawPage(
            n + 1,
            f"https://rest.zuora.com/workflows?page={n + 1}&page_length={PAGE_LENGTH}",
            render.dumps({"data": chunk, "pagination": {"page": n + 1, "page_length": len(chunk)}}).decode(),
            len(chunk),
        )
        for n, chunk in enumerate(items[i : i + PAGE_LENGTH] for i in range(0, len(items), PAGE_LENGTH))
    ]
    exports = [
        raw.RawExport(
            item["id"],
            render.dumps(export).decode(),
            export_hash(export),
            list_fingerprint(parse_list_item(item)),
            len(export["tasks"]),
        )
        for item in items
        if (export := tenant.exports[item["id"]]) is not None
    ]
    with write_transaction(engine) as conn:
        raw.clear_pages(conn, customer.id)
        raw.insert_pages(conn, customer.id, pages, run_id=run_id, at=now)
        raw.stage_exports(conn, customer.id, exports, run_id=run_id, at=now)
        raw.promote_staged(conn, customer.id, run_id=run_id)
    apply_listing(engine, customer, run_id=run_id)
    extract_tasks(engine, customer=customer)


def _load(engine: sa.Engine, stem: str, workflows: int) -> list[Tenant]:
    tenants = []
    for n in range(CUSTOMERS):
        # Customers 0 and 1 share a seed: the compare pair (a tenant and its copy).
        tenant = _tenant(f"{stem}-{n:02d}", seed=max(n, 1), workflows=workflows, id_base=n * 10_000_000)
        with write_transaction(engine) as conn:
            customer = customers.add(
                conn,
                name=tenant.name,
                base_url="https://rest.zuora.com",
                client_id="bench",
                client_secret_encrypted="-",
            )
        _land(engine, customer, tenant)
        _edit(tenant, seed=n)
        _land(engine, customer, tenant)
        tenants.append(tenant)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
            conn.commit()
    return tenants


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="bench-browse", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the browser's server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass
class Timings:
    server_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.server_ms)
        return {
            "median_ms": statistics.median(ordered),
            "p95_ms": ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)],
            "client_median_ms": statistics.median(self.client_ms),
            "n": len(ordered),
        }


def _server_ms(response: httpx.Response) -> float:
    return float(response.headers[SERVER_TIMING].split("dur=", 1)[1])


class Sampler:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.pages: dict[str, Timings] = {}

    def get(self, kind: str, url: str, before: Callable[[], None] | None = None) -> httpx.Response:
        if before is not None:
            before()
        started = time.perf_counter()
        response = self.client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"bench browse: {url} answered {response.status_code}: {response.text[:200]}")
        timings = self.pages.setdefault(kind, Timings())
        timings.server_ms.append(_server_ms(response))
        timings.client_ms.append(elapsed)
        return response


def _plan_rows(plan: dict[str, Any], found: list[tuple[str, str | None, str | None, float]]) -> None:
    rows = float(plan.get("Actual Rows", 0)) * float(plan.get("Actual Loops", 1))
    found.append((plan["Node Type"], plan.get("Relation Name"), plan.get("Index Name"), rows))
    for child in plan.get("Plans", []):
        _plan_rows(child, found)


def _explain(conn: sa.Connection, query: sa.Select) -> list[tuple[str, str | None, str | None, float]]:
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    (document,) = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled.string}", compiled.params).one()
    found: list[tuple[str, str | None, str | None, float]] = []
    _plan_rows(document[0]["Plan"], found)
    return found


def _plans(engine: sa.Engine, customer_ids: list[int]) -> dict[str, Any]:
    """What the list queries read at this scale, from PostgreSQL's own plans."""
    customer_id = customer_ids[0]
    with engine.connect() as conn:
        # The counts of every customer at once: what the customers page runs when nothing is cached.
        summary = _explain(conn, overview.counts_query(customer_ids))
        listing = _explain(
            conn,
            catalog.list_query(customer_id, WorkflowFilter(), sort="updated", descending=True, offset=950, limit=50),
        )
        changes = _explain(conn, change_log.page_query(customer_ids=None, kinds=None, since=None, offset=0, limit=101))
    scans = ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan")
    return {
        "customers_page_tables": sorted({rel for _n, rel, _ix, _r in summary if rel}),
        "customers_page_rows_read": int(sum(r for n, rel, _ix, r in summary if rel and n in scans)),
        "workflows_page_scans": sorted(
            {f"{n} {rel or ''} {ix or ''}".strip() for n, rel, ix, _r in listing if rel or ix}
        ),
        "changes_page_scans": sorted(
            {f"{n} {rel or ''} {ix or ''}".strip() for n, rel, ix, _r in changes if rel or ix}
        ),
    }


def _measure(sampler: Sampler, app: Any, tenants: list[Tenant], n: int, rng: random.Random) -> dict[str, float]:
    def cold() -> None:
        app.state.diagrams = DiagramCache()

    def some_workflow() -> tuple[Tenant, int]:
        tenant = rng.choice(tenants)
        zid = rng.choice([d.id for d in tenant.definitions if tenant.exports[d.id]])
        return tenant, zid

    # The customers page right after the browser starts: every customer's counts made afresh
    # (afterwards only a customer whose workflows a sync changed is counted again).
    first_visits = Timings()
    for _ in range(3):
        app.state.counts = CountsCache()
        response = sampler.client.get("/customers")
        first_visits.server_ms.append(_server_ms(response))
    columns = ("name", "id", "state", "version", "tasks", "created", "updated")
    for _ in range(n):
        sampler.get("customers", "/customers")
        tenant = rng.choice(tenants)
        sort, direction = rng.choice(columns), rng.choice(("asc", "desc"))
        last = max(1, math.ceil(len(tenant.definitions) / 50))
        sampler.get("workflows", f"/customers/{tenant.name}?sort={sort}&dir={direction}&page={rng.randint(1, last)}")
        word = rng.choice(tenant.definitions).name.split()[0]
        query = rng.choice((f"q={quote(word)}", "state=Inactive", "trigger=scheduled", "since=30d", "deleted=1"))
        sampler.get("workflows-filtered", f"/customers/{tenant.name}?{query}&sort={sort}&dir={direction}")
        tenant, zid = some_workflow()
        base = f"/customers/{tenant.name}/workflows/{zid}"
        sampler.get("workflow", base)
        sampler.get("export", f"{base}/export")
        sampler.get("export-download", f"{base}/export.json")
        sampler.get("diagram", f"{base}/diagram", before=cold)
        big = rng.choice([t for t in tenants if t.big is not None])
        big_base = f"/customers/{big.name}/workflows/{big.big}"
        sampler.get("workflow-60-tasks", big_base)
        sampler.get("diagram-60-tasks", f"{big_base}/diagram", before=cold)
        sampler.get("diagram-60-tasks-cached", f"{big_base}/diagram")
        edited = rng.choice(tenants)
        changed = f"/customers/{edited.name}/workflows/{rng.choice(edited.edited)}"
        sampler.get("history", f"{changed}/history")
        sampler.get("diff", f"{changed}/diff")
        sampler.get("diagram-changes", f"{changed}/diagram?revision=2&compare=1", before=cold)
        needle = rng.choice(("hooks.example.com", "ops@example.com", "from Invoice", "scooterlabs", "edited_by_bench"))
        sampler.get("search", f"/search?q={quote(needle)}")
        kind = rng.choice(("", "&change=updated", f"&customer={edited.name}", "&page=3"))
        sampler.get("changes", f"/changes?since=30d{kind}")
    return {"customers_first_visit_ms": statistics.median(first_visits.server_ms), **_compare(sampler, tenants, n)}


def _compare(sampler: Sampler, tenants: list[Tenant], n: int) -> dict[str, float]:
    """The pair's comparison: its first request starts it, the page shows progress until done."""
    a, b = tenants[0].name, tenants[1].name
    url = f"/compare?a={a}&b={b}"
    started = time.perf_counter()
    while "compare-counts" not in sampler.get("compare", url).text:
        if time.perf_counter() - started > COMPARE_TIMEOUT_S:
            raise RuntimeError(f"bench browse: comparing {a} and {b} took over {COMPARE_TIMEOUT_S} s")
        time.sleep(0.25)
    complete_s = time.perf_counter() - started
    for _ in range(n):
        page = sampler.get("compare", url)
    pairs = [line.split('href="', 1)[1].split('"', 1)[0] for line in page.text.splitlines() if "/compare/pair?" in line]
    for href in pairs[:n]:
        sampler.get("compare-pair", href.replace("&amp;", "&"))
    return {"compare_complete_s": complete_s, "compare_differing": len(pairs)}


def browse(env: BenchEnv, scale: float, repeat: int) -> ScenarioResult:
    workflows = max(20, int(WORKFLOWS * scale))
    with _postgres(env) as (engine, on_pg):
        load_started = time.perf_counter()
        tenants = _load(engine, env.unique("browse"), workflows)
        load_s = time.perf_counter() - load_started
        url = engine.url.render_as_string(hide_password=False)
        with engine.connect() as conn:
            ids = [customers.get(conn, t.name).id for t in tenants]
            tasks = int(conn.execute(sa.text("SELECT count(*) FROM tasks")).scalar_one())
        plans = _plans(engine, ids) if on_pg else {}
        readonly = create_readonly_engine(url)
        app = create_app(readonly)
        try:
            with _serving(app) as base, httpx.Client(base_url=base, timeout=60) as client:
                sampler = Sampler(client)
                compare = _measure(sampler, app, tenants, SAMPLES_PER_REPEAT * max(repeat, 1), random.Random(7))
        finally:
            readonly.dispose()
    pages = {kind: t.summary() for kind, t in sampler.pages.items()}
    worst = max(pages.values(), key=lambda s: s["median_ms"])
    met = (
        on_pg
        and all(s["median_ms"] <= MEDIAN_GOAL_MS and s["p95_ms"] <= P95_GOAL_MS for s in pages.values())
        and "tasks" not in plans.get("customers_page_tables", ["tasks"])
    )
    extra: dict[str, Any] = {
        f"{kind} ms": f"median {s['median_ms']:.1f}, p95 {s['p95_ms']:.1f} (client median {s['client_median_ms']:.1f}, "
        f"n {s['n']:.0f})"
        for kind, s in pages.items()
    }
    extra.update(plans)
    extra.update(compare)
    extra.update({"load_s": load_s, "tasks": tasks})
    return ScenarioResult(
        name="browse",
        workload=f"the workflow browser over HTTP: {CUSTOMERS} customers x {workflows:,} workflows x ~{TASKS} tasks "
        f"({tasks:,} tasks, {'PostgreSQL' if on_pg else 'SQLite'}), 1% edited once; server time per page type",
        target=f"every page type: median <= {MEDIAN_GOAL_MS:.0f} ms, p95 <= {P95_GOAL_MS:.0f} ms; "
        "the customers page reads no task row",
        wall_s=worst["median_ms"] / 1000,
        met=met,
        repetitions=max(repeat, 1),
        notes=[] if on_pg else ["no PostgreSQL reachable: measured on the bench's SQLite warehouse"],
        extra=extra,
    )
