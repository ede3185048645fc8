"""Layered (Sugiyama) layout of a diagram with grandalf, the pure-Python path used where
Graphviz is not installed: node coordinates and edge routes come from the layout engine; edges
are cut at each node's outline and each edge's label is put where it touches no line, node or
other label."""

from __future__ import annotations

from dataclasses import dataclass

from zuora_pipeline.diagrams.geometry import Point, Rect, boundary_point, polyline_touches
from zuora_pipeline.diagrams.model import Diagram, Edge, Node

CHAR_W, LINE_H, PAD_X, PAD_Y = 6.6, 14.0, 18.0, 10.0
LABEL_FONT, LABEL_CHAR_W, LABEL_H, LABEL_GAP = 9.0, 5.6, 11.0, 3.0
MARGIN, COMPONENT_GAP = 20.0, 40.0
_ALONG = (0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9)  # where on a segment a label is tried, in order


@dataclass(frozen=True)
class Box:
    node: Node
    x: float  # centre
    y: float
    w: float
    h: float

    @property
    def rect(self) -> Rect:
        return Rect(self.x, self.y, self.w, self.h)


@dataclass(frozen=True)
class Route:
    edge: Edge
    points: tuple[Point, ...]
    label: Rect | None = None  # where the label's text box goes (None: the edge has no label)


@dataclass(frozen=True)
class Placed:
    width: float
    height: float
    boxes: tuple[Box, ...]
    routes: tuple[Route, ...]


class _View:
    def __init__(self, w: float, h: float) -> None:
        self.w, self.h = w, h
        self.xy = (0.0, 0.0)


class _EdgeView:
    def __init__(self) -> None:
        self.points: list[Point] = []

    def setpath(self, points: list[Point]) -> None:
        self.points = [(float(x), float(y)) for x, y in points]


def size(node: Node) -> tuple[float, float]:
    w = max(len(line) for line in node.lines) * CHAR_W + 2 * PAD_X
    h = len(node.lines) * LINE_H + 2 * PAD_Y
    if node.decision:  # a diamond needs room for its text
        w, h = w * 1.35, h * 1.5
    return max(w, 60.0), h


def label_size(text: str) -> tuple[float, float]:
    return len(text) * LABEL_CHAR_W + 2, LABEL_H


def layout(d: Diagram) -> Placed:
    # Imported here: grandalf is the `diagrams` extra, needed only where Graphviz is not used.
    from grandalf.graphs import Edge as GEdge
    from grandalf.graphs import Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    vertices = {}
    for node in d.nodes:
        vertex = Vertex(node.id)
        vertex.view = _View(*size(node))
        vertices[node.id] = vertex
    edges = []
    for edge in d.edges:
        e = GEdge(vertices[edge.source], vertices[edge.target], data=edge)
        e.view = _EdgeView()
        edges.append(e)
    graph = Graph(list(vertices.values()), edges)
    nodes = {n.id: n for n in d.nodes}
    offset = MARGIN
    boxes: list[Box] = []
    lines: list[tuple[Edge, tuple[Point, ...]]] = []
    height = 0.0
    # Each connected component is laid out on its own and placed to the right of the previous.
    for core in graph.C:
        sugiyama = SugiyamaLayout(core)
        sugiyama.xspace, sugiyama.yspace = 24, 46
        roots = [v for v in core.sV if v.data == "start"] or None
        sugiyama.init_all(roots=roots)
        sugiyama.draw()
        placed = list(core.sV)
        left = min(v.view.xy[0] - v.view.w / 2 for v in placed)
        top = min(v.view.xy[1] - v.view.h / 2 for v in placed)
        right = max(v.view.xy[0] + v.view.w / 2 for v in placed)
        shift_x, shift_y = offset - left, MARGIN - top
        by_id = {}
        for v in placed:
            box = Box(nodes[v.data], v.view.xy[0] + shift_x, v.view.xy[1] + shift_y, v.view.w, v.view.h)
            boxes.append(box)
            by_id[v.data] = box
            height = max(height, box.y + box.h / 2)
        for e in core.sE:
            points = [(x + shift_x, y + shift_y) for x, y in (e.view.points or [e.v[0].view.xy, e.v[1].view.xy])]
            source, target = by_id[e.v[0].data], by_id[e.v[1].data]
            if len(points) >= 2:
                points[0] = boundary_point(source.node.shape, source.rect, points[1])
                points[-1] = boundary_point(target.node.shape, target.rect, points[-2])
            lines.append((e.data, tuple(points)))
        offset += right - left + COMPONENT_GAP
    routes = _place_labels(lines, boxes)
    width = offset - COMPONENT_GAP + MARGIN
    far = max([width, *(r.label.right + MARGIN / 2 for r in routes if r.label)])
    low = max([height + MARGIN, *(r.label.bottom + MARGIN / 2 for r in routes if r.label)])
    return Placed(far, low, tuple(boxes), routes)


def _place_labels(lines: list[tuple[Edge, tuple[Point, ...]]], boxes: list[Box]) -> tuple[Route, ...]:
    """Each label goes beside its own edge, at the first spot (middle of the route first, then
    further along, either side) where its box touches no edge, node or label already placed."""
    obstacles = [b.rect.grown(2) for b in boxes]
    placed: list[Rect] = []
    routes = []
    for edge, points in lines:
        if not edge.label or len(points) < 2:
            routes.append(Route(edge, points))
            continue
        w, h = label_size(edge.label)
        candidates = list(_candidates(points, w, h))
        spot = next(
            (
                c
                for c in candidates
                if c.left >= 0
                and c.top >= 0
                and not any(c.overlaps(o) for o in obstacles)
                and not any(c.overlaps(p) for p in placed)
                and not any(polyline_touches(c, other) for _, other in lines)
            ),
            candidates[0],
        )
        placed.append(spot.grown(1))
        routes.append(Route(edge, points, spot))
    return tuple(routes)


def _candidates(points: tuple[Point, ...], w: float, h: float) -> list[Rect]:
    segments = sorted(
        range(len(points) - 1),
        key=lambda i: -((points[i + 1][0] - points[i][0]) ** 2 + (points[i + 1][1] - points[i][1]) ** 2),
    )
    found = []
    for gap in (LABEL_GAP, LABEL_GAP + 8, LABEL_GAP + 20):
        for i in segments:
            (ax, ay), (bx, by) = points[i], points[i + 1]
            length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5 or 1.0
            nx, ny = (by - ay) / length, -(bx - ax) / length  # a unit normal of the segment
            reach = abs(nx) * w / 2 + abs(ny) * h / 2 + gap  # centre to line, box clear of it
            for t in _ALONG:
                px, py = ax + (bx - ax) * t, ay + (by - ay) * t
                for side in (1, -1):
                    found.append(Rect(px + side * nx * reach, py + side * ny * reach, w, h))
    return found
