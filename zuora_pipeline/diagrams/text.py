"""A diagram as Graphviz DOT or Mermaid flowchart text (pure)."""

from __future__ import annotations

from zuora_pipeline.diagrams.model import MARK_COLOURS, MARK_WIDTH, STYLES, Diagram

EDGE_COLOURS = {"good": "#2e8540", "bad": "#c0392b", "other": "#555555"}
FONT = "Helvetica,Arial,sans-serif"


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_label(text: str) -> str:
    # Graphviz decodes HTML entities inside labels ("&lt;" is drawn as "<"): an ampersand of
    # the text itself is written as an entity, so every name is drawn exactly as it is.
    return _dot_string(text.replace("&", "&amp;"))


def to_dot(d: Diagram) -> str:
    lines = [
        "digraph workflow {",
        f"  graph [rankdir=TB, fontname={_dot_string(FONT)}, label={_dot_label(d.title)}, labelloc=t, "
        "nodesep=0.35, ranksep=0.45];",
        f'  node [fontname={_dot_string(FONT)}, fontsize=11, style="rounded,filled", shape=box];',
        f"  edge [fontname={_dot_string(FONT)}, fontsize=9];",
    ]
    for node in d.nodes:
        fill, border = STYLES[node.family]
        style = "filled" if node.shape != "box" else "rounded,filled"
        label = "\n".join(node.lines)
        mark = ""
        if node.mark:
            border = MARK_COLOURS[node.mark]
            mark = f", penwidth={MARK_WIDTH:g}, class={_dot_string(node.mark)}"
        lines.append(
            f"  {node.id} [label={_dot_label(label)}, shape={node.shape}, style={_dot_string(style)}, "
            f"fillcolor={_dot_string(fill)}, color={_dot_string(border)}{mark}];"
        )
    for edge in d.edges:
        colour = EDGE_COLOURS[edge.tone]
        mark = f", penwidth={MARK_WIDTH:g}, class={_dot_string(edge.mark)}" if edge.mark else ""
        lines.append(
            f"  {edge.source} -> {edge.target} [label={_dot_label(edge.label)}, color={_dot_string(colour)}, "
            f"fontcolor={_dot_string(colour)}{mark}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Mermaid's entity codes: a quote or a pipe would end the label.
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("|", "#124;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
    )


def to_mermaid(d: Diagram) -> str:
    lines = ["flowchart TD"]
    if d.title:
        lines.insert(0, f"---\ntitle: {_mermaid_text(d.title)}\n---")
    for node in d.nodes:
        label = "<br/>".join(_mermaid_text(part) for part in node.lines)
        if node.shape == "ellipse":
            lines.append(f'  {node.id}(["{label}"])')
        elif node.shape == "diamond":
            lines.append(f'  {node.id}{{"{label}"}}')
        else:
            lines.append(f'  {node.id}["{label}"]')
        lines.append(f"  class {node.id} {node.family}")
        if node.mark:
            lines.append(f"  class {node.id} {node.mark}")
    for edge in d.edges:
        lines.append(f'  {edge.source} -->|"{_mermaid_text(edge.label)}"| {edge.target}')
    for family, (fill, border) in STYLES.items():
        lines.append(f"  classDef {family} fill:{fill},stroke:{border}")
    for mark, colour in MARK_COLOURS.items():
        lines.append(f"  classDef {mark} stroke:{colour},stroke-width:{MARK_WIDTH:g}px")
    return "\n".join(lines) + "\n"
