"""Workflow diagrams: an export -> a graph model (model.py) -> DOT or Mermaid text (text.py) ->
SVG or PNG laid out by a real layout engine (render.py: Graphviz ``dot`` when installed, else
grandalf's Sugiyama layout, pure Python)."""
