"""``render(diagram, fmt)``: the one function that turns a diagram into bytes.

``dot`` and ``mermaid`` are text. ``svg`` and ``png`` are laid out by Graphviz's ``dot`` when it is
on PATH (the Debian/Ubuntu package ``graphviz``), otherwise by grandalf (pure Python, the
``diagrams`` extra) and drawn here: SVG by hand, PNG with Pillow. Every format carries the
diagram's title and its change marks.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from html import escape
from typing import Any

from zuora_pipeline.diagrams.dot_process import DotProcess, DotProcessError
from zuora_pipeline.diagrams.layout import LABEL_FONT, LINE_H, Placed, layout
from zuora_pipeline.diagrams.model import MARK_COLOURS, MARK_WIDTH, STYLES, Diagram, Node
from zuora_pipeline.diagrams.text import EDGE_COLOURS, to_dot, to_mermaid

FORMATS = ("svg", "png", "dot", "mermaid")
ENGINES = ("auto", "graphviz", "grandalf")
DOT_TIMEOUT_S = 60
TITLE_BAND, TITLE_FONT = 24.0, 14.0


class DiagramError(RuntimeError):
    """The diagram cannot be drawn as asked (unknown format, Graphviz missing or failing)."""


def graphviz_available() -> bool:
    return shutil.which("dot") is not None


def render(d: Diagram, fmt: str, *, engine: str = "auto", dot: DotProcess | None = None) -> bytes:
    """``dot``: a long-lived Graphviz process to draw SVG with (a server drawing many diagrams);
    when it fails, a one-off ``dot`` run draws it (or says why it cannot)."""
    if fmt not in FORMATS:
        raise DiagramError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if engine not in ENGINES:
        raise DiagramError(f"unknown layout engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if fmt == "dot":
        return to_dot(d).encode()
    if fmt == "mermaid":
        return to_mermaid(d).encode()
    if engine == "graphviz" or (engine == "auto" and graphviz_available()):
        if dot is not None and fmt == "svg":
            try:
                return dot.svg(to_dot(d))
            except DotProcessError:
                pass
        return _graphviz(d, fmt)
    placed = layout(d)
    return _svg(d, placed).encode() if fmt == "svg" else _png(d, placed)


def _graphviz(d: Diagram, fmt: str) -> bytes:
    binary = shutil.which("dot")
    if binary is None:
        raise DiagramError(
            "Graphviz is not installed (no `dot` on PATH): apt-get install graphviz, or --engine grandalf"
        )
    done = subprocess.run(
        [binary, f"-T{fmt}"], input=to_dot(d).encode(), capture_output=True, timeout=DOT_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        first = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[0]
        raise DiagramError(f"Graphviz failed: {first}")
    return done.stdout


def _diamond(x: float, y: float, w: float, h: float) -> str:
    return f"{x},{y - h / 2} {x + w / 2},{y} {x},{y + h / 2} {x - w / 2},{y}"


def _outline(node: Node) -> tuple[str, float]:
    """Border colour and width: a changed or added task stands out in the mark's colour."""
    if node.mark:
        return MARK_COLOURS[node.mark], MARK_WIDTH
    return STYLES[node.family][1], 1.0


def _svg(d: Diagram, placed: Placed) -> str:
    """The same structure Graphviz writes (``<g class="node"><title>id</title>``), so one set
    of checks reads both."""
    top = TITLE_BAND if d.title else 0.0
    width, height = f"{placed.width:.0f}", f"{placed.height + top:.0f}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica,Arial,sans-serif">',
        "<defs>",
    ]
    for tone, colour in EDGE_COLOURS.items():
        out.append(
            f'<marker id="arrow-{tone}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    out.append('<rect width="100%" height="100%" fill="white"/>')
    if d.title:
        out.append(
            f'<text class="title" x="{placed.width / 2:.1f}" y="17" text-anchor="middle" font-size="{TITLE_FONT:.0f}">'
            f"{escape(d.title)}</text>"
        )
    out.append(f'<g transform="translate(0,{top})">')
    for route in placed.routes:
        colour = EDGE_COLOURS[route.edge.tone]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in route.points)
        stroke = MARK_WIDTH if route.edge.mark else 1.2
        classes = f"edge {route.edge.mark}" if route.edge.mark else "edge"
        out.append(
            f'<g class="{classes}"><title>{escape(route.edge.source)}-&gt;{escape(route.edge.target)}</title>'
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="{stroke}" '
            f'marker-end="url(#arrow-{route.edge.tone})"/>'
        )
        if route.label is not None:
            out.append(
                f'<text x="{route.label.x:.1f}" y="{route.label.y + LABEL_FONT * 0.35:.1f}" text-anchor="middle" '
                f'font-size="{LABEL_FONT:.0f}" fill="{colour}">{escape(route.edge.label)}</text>'
            )
        out.append("</g>")
    for box in placed.boxes:
        fill = STYLES[box.node.family][0]
        border, stroke = _outline(box.node)
        x0, y0 = box.x - box.w / 2, box.y - box.h / 2
        if box.node.shape == "ellipse":
            shape = f'<ellipse cx="{box.x:.1f}" cy="{box.y:.1f}" rx="{box.w / 2:.1f}" ry="{box.h / 2:.1f}" '
        elif box.node.shape == "diamond":
            shape = f'<polygon points="{_diamond(box.x, box.y, box.w, box.h)}" '
        else:
            shape = f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" rx="6" '
        classes = f"node {box.node.mark}" if box.node.mark else "node"
        out.append(
            f'<g class="{classes}"><title>{escape(box.node.id)}</title>'
            f'{shape}fill="{fill}" stroke="{border}" stroke-width="{stroke}"/>'
        )
        first = box.y - (len(box.node.lines) - 1) * LINE_H / 2 + 4
        for n, line in enumerate(box.node.lines):
            out.append(
                f'<text x="{box.x:.1f}" y="{first + n * LINE_H:.1f}" text-anchor="middle" font-size="11">'
                f"{escape(line)}</text>"
            )
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def _png(d: Diagram, placed: Placed) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    scale = 2  # drawn at twice the size: crisp text on high-density screens
    top = TITLE_BAND if d.title else 0.0
    image = Image.new("RGB", (int(placed.width * scale) + 1, int((placed.height + top) * scale) + 1), "white")
    draw = ImageDraw.Draw(image)
    font, small = _font(ImageFont, 11 * scale), _font(ImageFont, int(LABEL_FONT) * scale)
    if d.title:
        title_font = _font(ImageFont, int(TITLE_FONT) * scale)
        draw.text((placed.width * scale / 2, 12 * scale), d.title, fill="black", font=title_font, anchor="mm")

    def at(x: float, y: float) -> tuple[float, float]:
        return x * scale, (y + top) * scale

    for route in placed.routes:
        colour = EDGE_COLOURS[route.edge.tone]
        points = [at(x, y) for x, y in route.points]
        draw.line(points, fill=colour, width=int(MARK_WIDTH * scale) if route.edge.mark else scale)
        _arrow_head(draw, points[-2], points[-1], colour, 7 * scale)
        if route.label is not None:
            draw.text(at(route.label.x, route.label.y), route.edge.label, fill=colour, font=small, anchor="mm")
    for box in placed.boxes:
        fill = STYLES[box.node.family][0]
        border, stroke = _outline(box.node)
        width = int(stroke * scale)
        (x, y), w, h = at(box.x, box.y), box.w * scale, box.h * scale
        if box.node.shape == "ellipse":
            draw.ellipse((x - w / 2, y - h / 2, x + w / 2, y + h / 2), fill=fill, outline=border, width=width)
        elif box.node.shape == "diamond":
            corners = [(x, y - h / 2), (x + w / 2, y), (x, y + h / 2), (x - w / 2, y)]
            draw.polygon(corners, fill=fill, outline=border, width=width)
        else:
            draw.rounded_rectangle((x - w / 2, y - h / 2, x + w / 2, y + h / 2), 6 * scale, fill, border, width)
        text = "\n".join(box.node.lines)
        draw.multiline_text((x, y), text, fill="black", font=font, anchor="mm", align="center", spacing=3 * scale)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _font(image_font: Any, size: int) -> Any:
    # A system DejaVu Sans has the accents and symbols of real task names; Pillow's own font
    # (always there) lacks some of them.
    try:
        return image_font.truetype("DejaVuSans.ttf", size)
    except OSError:
        return image_font.load_default(size=size)


def _arrow_head(draw: Any, start: tuple[float, float], end: tuple[float, float], colour: str, length: float) -> None:
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    left = (end[0] - length * math.cos(angle - 0.4), end[1] - length * math.sin(angle - 0.4))
    right = (end[0] - length * math.cos(angle + 0.4), end[1] - length * math.sin(angle + 0.4))
    draw.polygon([end, left, right], fill=colour)
