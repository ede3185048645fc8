"""Layered (Sugiyama) layout of a diagram with grandalf, the pure-Python path used where
Graphviz is not installed: node coordinates and edge routes come from the layout engine."""

from __future__ import annotations

from dataclasses import dataclass

from zuora_pipeline.diagrams.model import Diagram, Edge, Node

CHAR_W, LINE_H, PAD_X, PAD_Y = 6.6, 14.0, 18.0, 10.0
MARGIN, COMPONENT_GAP = 20.0, 40.0


@dataclass(frozen=True)
class Box:
    node: Node
    x: float  # centre
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Route:
    edge: Edge
    points: tuple[tuple[float, float], ...]


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
        self.points: list[tuple[float, float]] = []

    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.points = [tuple(p) for p in points]  # type: ignore[misc]


def size(node: Node) -> tuple[float, float]:
    w = max(len(line) for line in node.lines) * CHAR_W + 2 * PAD_X
    h = len(node.lines) * LINE_H + 2 * PAD_Y
    if node.decision:  # a diamond needs room for its text
        w, h = w * 1.35, h * 1.5
    return max(w, 60.0), h


def _clip(centre: tuple[float, float], toward: tuple[float, float], w: float, h: float) -> tuple[float, float]:
    """Where the segment from a box's centre toward a point leaves the box."""
    (cx, cy), (tx, ty) = centre, toward
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return centre
    scale = min(w / 2 / abs(dx) if dx else float("inf"), h / 2 / abs(dy) if dy else float("inf"))
    return (cx + dx * min(scale, 1.0), cy + dy * min(scale, 1.0))


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
    offset = MARGIN
    boxes: list[Box] = []
    routes: list[Route] = []
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
            node = next(n for n in d.nodes if n.id == v.data)
            box = Box(node, v.view.xy[0] + shift_x, v.view.xy[1] + shift_y, v.view.w, v.view.h)
            boxes.append(box)
            by_id[node.id] = box
            height = max(height, box.y + box.h / 2)
        for e in core.sE:
            points = [(x + shift_x, y + shift_y) for x, y in (e.view.points or [e.v[0].view.xy, e.v[1].view.xy])]
            source, target = by_id[e.v[0].data], by_id[e.v[1].data]
            if len(points) >= 2:
                points[0] = _clip((source.x, source.y), points[1], source.w, source.h)
                points[-1] = _clip((target.x, target.y), points[-2], target.w, target.h)
            routes.append(Route(e.data, tuple(points)))
        offset += right - left + COMPONENT_GAP
    return Placed(offset - COMPONENT_GAP + MARGIN, height + MARGIN, tuple(boxes), tuple(routes))
