"""Plane geometry of a drawn diagram (pure): where a line from a node's centre crosses the node's
outline (box, rounded box, diamond, ellipse), and whether a label's box touches a line."""

from __future__ import annotations

import math
from dataclasses import dataclass

Point = tuple[float, float]
CORNER_RADIUS = 6.0  # of the rounded boxes drawn for tasks


@dataclass(frozen=True)
class Rect:
    """An axis-aligned box by its centre and size."""

    x: float
    y: float
    w: float
    h: float

    @property
    def left(self) -> float:
        return self.x - self.w / 2

    @property
    def right(self) -> float:
        return self.x + self.w / 2

    @property
    def top(self) -> float:
        return self.y - self.h / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h / 2

    def grown(self, by: float) -> Rect:
        return Rect(self.x, self.y, self.w + 2 * by, self.h + 2 * by)

    def overlaps(self, other: Rect) -> bool:
        return not (
            self.right <= other.left or other.right <= self.left or self.bottom <= other.top or other.bottom <= self.top
        )

    def contains(self, p: Point) -> bool:
        return self.left <= p[0] <= self.right and self.top <= p[1] <= self.bottom


def boundary_point(shape: str, box: Rect, toward: Point) -> Point:
    """Where the ray from the centre of ``box`` toward ``toward`` leaves the shape's outline."""
    dx, dy = toward[0] - box.x, toward[1] - box.y
    if dx == 0 and dy == 0:
        return (box.x, box.y)
    a, b = box.w / 2, box.h / 2
    if shape == "diamond":  # |x|/a + |y|/b = 1
        t = 1 / (abs(dx) / a + abs(dy) / b)
    elif shape == "ellipse":  # (x/a)^2 + (y/b)^2 = 1
        t = 1 / math.hypot(dx / a, dy / b)
    else:
        t = min(a / abs(dx) if dx else math.inf, b / abs(dy) if dy else math.inf)
        if shape == "box":
            return _rounded_corner((box.x + dx * t, box.y + dy * t), box, (dx, dy))
    return (box.x + dx * t, box.y + dy * t)


def _rounded_corner(hit: Point, box: Rect, direction: Point) -> Point:
    """A hit on the straight outline of a rounded box inside a corner's square moves onto the
    corner's arc (the ray is cut by the arc's circle, the far root)."""
    r = min(CORNER_RADIUS, box.w / 2, box.h / 2)
    cx = box.right - r if hit[0] > box.right - r else box.left + r if hit[0] < box.left + r else None
    cy = box.bottom - r if hit[1] > box.bottom - r else box.top + r if hit[1] < box.top + r else None
    if cx is None or cy is None:
        return hit
    # Solve |centre + t * d - c| = r for the largest t.
    dx, dy = direction
    ox, oy = box.x - cx, box.y - cy
    qa = dx * dx + dy * dy
    qb = 2 * (ox * dx + oy * dy)
    qc = ox * ox + oy * oy - r * r
    disc = qb * qb - 4 * qa * qc
    if disc < 0:
        return hit
    t = (-qb + math.sqrt(disc)) / (2 * qa)
    return (box.x + dx * t, box.y + dy * t)


def on_outline(shape: str, box: Rect, p: Point, tolerance: float = 0.5) -> bool:
    """Whether ``p`` lies on the outline (what the tests check every edge end against)."""
    expected = boundary_point(shape, box, p)
    return math.hypot(expected[0] - p[0], expected[1] - p[1]) <= tolerance


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    def orient(a: Point, b: Point, c: Point) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0))


def segment_touches(rect: Rect, a: Point, b: Point) -> bool:
    """Whether the segment a-b enters the box."""
    if rect.contains(a) or rect.contains(b):
        return True
    corners = [(rect.left, rect.top), (rect.right, rect.top), (rect.right, rect.bottom), (rect.left, rect.bottom)]
    return any(_segments_cross(a, b, corners[i], corners[(i + 1) % 4]) for i in range(4))


def polyline_touches(rect: Rect, points: tuple[Point, ...]) -> bool:
    return any(segment_touches(rect, points[i], points[i + 1]) for i in range(len(points) - 1))
