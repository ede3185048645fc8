"""The long-lived Graphviz process draws what a one-off ``dot`` run draws, comes back after it
dies, and a graph it cannot draw falls back to the one-off run and its error."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from zuora_pipeline.diagrams.dot_process import DotProcess, DotProcessError
from zuora_pipeline.diagrams.model import diagram, title
from zuora_pipeline.diagrams.render import render
from zuora_pipeline.diagrams.text import to_dot

GRAPH_GROUP = re.compile(rb'<g id="[^"]*graph0" class="graph"')  # dot numbers pages per process


@pytest.fixture(scope="module")
def exports(simulator: Any) -> list[dict[str, Any]]:
    tenant = simulator.admin.create_tenant("dot-process", workflows=24, tasks=10, seed=9)
    return [i["export"] for i in simulator.admin.truth(tenant.name).values() if i["export"]]


def test_it_draws_what_a_one_off_run_draws(exports: list[dict[str, Any]]) -> None:
    process = DotProcess()
    try:
        sizes = set()
        for export in exports:
            d = diagram(export, title=title("acme", "W", 1, 1))
            alone = render(d, "svg", engine="graphviz")
            kept = render(d, "svg", engine="graphviz", dot=process)
            assert GRAPH_GROUP.sub(b"", kept) == GRAPH_GROUP.sub(b"", alone)
            sizes.add(len(export["tasks"]))
        assert {0, 60} <= sizes
    finally:
        process.close()


def test_a_process_that_died_is_started_again(exports: list[dict[str, Any]]) -> None:
    process = DotProcess()
    try:
        graph = to_dot(diagram(exports[0]))
        first = process.svg(graph)
        assert process._process is not None
        process._process.kill()
        process._process.wait()
        assert GRAPH_GROUP.sub(b"", process.svg(graph)) == GRAPH_GROUP.sub(b"", first)  # by a new process
    finally:
        process.close()


def test_a_graph_it_cannot_draw_fails_fast_and_a_one_off_run_draws_instead() -> None:
    process = DotProcess(timeout_s=1)
    try:
        started = time.monotonic()
        with pytest.raises(DotProcessError):
            process.svg("digraph workflow { a -> ; }\n")
        assert time.monotonic() - started < 5
        assert process.svg("digraph workflow { a -> b }\n").endswith(b"</svg>\n")  # and it goes on
    finally:
        process.close()
    d = diagram({"tasks": [{"id": 1, "name": "x", "action_type": "Callout"}], "linkages": []}, title="t")
    assert GRAPH_GROUP.sub(b"", render(d, "svg", engine="graphviz", dot=_Broken())) == GRAPH_GROUP.sub(
        b"", render(d, "svg", engine="graphviz")
    )


class _Broken(DotProcess):
    """A long-lived process that never answers."""

    def svg(self, dot_text: str) -> bytes:
        raise DotProcessError("no answer")
