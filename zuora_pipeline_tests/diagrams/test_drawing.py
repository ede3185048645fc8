"""How diagrams are drawn, on the simulator's workflows (0, 1 and 60 tasks, branching ones, If,
Approval and Case diamonds): edges end on each node's outline (box, diamond, ellipse), labels are
clear of every line, node and other label, every format carries its title, changes between two
revisions are marked, and names are drawn exactly as they are."""

from __future__ import annotations

import copy
import html
import io
import re
from typing import Any, cast

import pytest
from PIL import Image

from zuora_pipeline.diagrams.geometry import Rect, on_outline, polyline_touches
from zuora_pipeline.diagrams.layout import layout
from zuora_pipeline.diagrams.model import ADDED, CHANGED, diagram, title
from zuora_pipeline.diagrams.render import render
from zuora_pipeline.logic.workflow_diff import diff_states

TITLE = title("acme", "Invoice sync", 1042, 3)


@pytest.fixture(scope="module")
def exports(simulator: Any) -> list[dict[str, Any]]:
    tenant = simulator.admin.create_tenant("diagram-drawing", workflows=30, tasks=10, seed=5)
    found = [item["export"] for item in simulator.admin.truth(tenant.name).values() if item["export"]]
    sizes = {len(e["tasks"]) for e in found}
    assert {0, 60} <= sizes, sizes
    kinds = {t["action_type"] for e in found for t in e["tasks"]}
    assert {"If", "Logic::Case"} <= kinds, kinds
    return found


def test_every_edge_starts_and_ends_on_a_node_outline(exports: list[dict[str, Any]]) -> None:
    shapes_reached = set()
    for export in exports:
        placed = layout(diagram(export, title=TITLE))
        boxes = {b.node.id: b for b in placed.boxes}
        for route in placed.routes:
            source, target = boxes[route.edge.source], boxes[route.edge.target]
            assert on_outline(source.node.shape, source.rect, route.points[0]), (source.node, route.points[0])
            assert on_outline(target.node.shape, target.rect, route.points[-1]), (target.node, route.points[-1])
            shapes_reached |= {source.node.shape, target.node.shape}
    assert shapes_reached == {"ellipse", "box", "diamond"}


def test_graphviz_edges_end_on_diamonds_and_ellipses(exports: list[dict[str, Any]]) -> None:
    """Graphviz cuts edges at the node's own shape: the arrow's tip touches a diamond's edge."""
    export = next(e for e in exports if any(t["action_type"] == "If" for t in e["tasks"][1:]))
    svg = render(diagram(export, title=TITLE), "svg", engine="graphviz").decode()
    nodes = {}
    for name, body in re.findall(r'class="node">\s*<title>(.*?)</title>(.*?)</g>', svg, re.S):
        if polygon := re.search(r'<polygon [^>]*points="([^"]+)"', body):
            points = [tuple(map(float, p.split(","))) for p in polygon.group(1).split()]
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            box = Rect((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys))
            nodes[name] = ("diamond", box)
        elif ellipse := re.search(r'<ellipse [^>]*cx="([-\d.]+)" cy="([-\d.]+)" rx="([-\d.]+)" ry="([-\d.]+)"', body):
            cx, cy, rx, ry = map(float, ellipse.groups())
            nodes[name] = ("ellipse", Rect(cx, cy, 2 * rx, 2 * ry))
    checked = 0
    for edge, body in re.findall(r'class="edge">\s*<title>(.*?)</title>(.*?)</g>', svg, re.S):
        target = html.unescape(edge).split("->")[1]
        if target not in nodes:
            continue
        arrow = re.search(r'<polygon [^>]*points="([^"]+)"', body)
        assert arrow is not None
        x, y = arrow.group(1).split()[1].split(",")
        tip = (float(x), float(y))
        shape, box = nodes[target]
        assert on_outline(shape, box, tip, tolerance=1.5), (edge, tip, box)
        checked += 1
    assert checked >= 2  # the Start linkage's ellipse and at least one diamond


def test_edge_labels_touch_no_line_node_or_other_label(exports: list[dict[str, Any]]) -> None:
    labelled = 0
    for export in exports:
        placed = layout(diagram(export))
        nodes = [b.rect for b in placed.boxes]
        labels = [r.label for r in placed.routes if r.label is not None]
        for route in placed.routes:
            if route.label is None:
                continue
            labelled += 1
            assert not any(polyline_touches(route.label, other.points) for other in placed.routes), route
            assert not any(route.label.overlaps(node) for node in nodes), route
            assert sum(route.label.overlaps(other) for other in labels) == 1, route  # only itself
            assert route.label.left >= 0 and route.label.right <= placed.width
    assert labelled > 100


def _title_band_has_ink(png: bytes, rows: int) -> bool:
    image = Image.open(io.BytesIO(png)).convert("L")
    band = image.crop((0, 0, image.width, rows))
    darkest, _ = band.getextrema()
    return cast(int, darkest) < 100  # a grey-scale image: one value per band


@pytest.mark.parametrize("engine", ["graphviz", "grandalf"])
def test_every_format_has_the_title(exports: list[dict[str, Any]], engine: str) -> None:
    export = next(e for e in exports if e["tasks"])
    titled, untitled = diagram(export, title=TITLE), diagram(export, title=" ")
    assert TITLE in html.unescape(render(titled, "svg", engine=engine).decode())
    assert f"label={TITLE!r}".replace("'", '"') in render(titled, "dot").decode()
    assert render(titled, "mermaid").decode().startswith(f"---\ntitle: {TITLE}\n---")
    with_title, without = render(titled, "png", engine=engine), render(untitled, "png", engine=engine)
    rows = 40 if engine == "grandalf" else 24  # the title band (grandalf draws at twice the size)
    assert _title_band_has_ink(with_title, rows) and not _title_band_has_ink(without, rows)


def test_changes_between_revisions_are_marked(exports: list[dict[str, Any]]) -> None:
    old = next(e for e in exports if len(e["tasks"]) >= 6)
    new = copy.deepcopy(old)
    new["tasks"][2]["parameters"]["url"] = "https://hooks.example.com/changed"
    added = copy.deepcopy(new["tasks"][-1])
    added.update(id=999_999, name="Notify finance", task_id=new["tasks"][-1]["id"])
    new["tasks"].append(added)
    new["linkages"].append(
        {
            "source_workflow_id": None,
            "source_task_id": added["task_id"],
            "target_task_id": 999_999,
            "linkage_type": "Success",
        }
    )
    changes = diff_states(old, new)
    d = diagram(new, title=TITLE, changes=changes)
    marks = {n.id: n.mark for n in d.nodes if n.mark}
    assert marks == {"t2": CHANGED, f"t{len(new['tasks']) - 1}": ADDED}
    assert [(e.target, e.mark) for e in d.edges if e.mark] == [(f"t{len(new['tasks']) - 1}", ADDED)]
    for engine in ("graphviz", "grandalf"):
        svg = render(d, "svg", engine=engine).decode()
        marked = dict(re.findall(r'class="node (added|changed)">\s*<title>(\w+)</title>', svg))
        assert {v: k for k, v in marked.items()} == marks, engine
        assert len(re.findall(r'class="edge added"', svg)) == 1, engine
    assert "penwidth=3" in render(d, "dot").decode()
    assert render(diagram(new, title=TITLE), "svg", engine="grandalf").count(b"added") == 0


@pytest.mark.parametrize("engine", ["graphviz", "grandalf"])
def test_names_are_drawn_exactly_as_they_are(exports: list[dict[str, Any]], engine: str) -> None:
    export = copy.deepcopy(next(e for e in exports if len(e["tasks"]) >= 3))
    names = ["<img src=x onerror=alert(1)>", 'a &lt; b & "c"', "</svg><script>alert(2)</script>"]
    for task, name in zip(export["tasks"], names, strict=False):
        task["name"] = name
    svg = render(diagram(export, title=TITLE), "svg", engine=engine).decode()
    assert "<script" not in svg and "<img" not in svg
    texts = {html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)}
    assert set(names) <= texts
