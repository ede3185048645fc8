"""``workflows graph`` draws every task and linkage of the simulator's workflows (0, 1 and 60
tasks, branching ones) in every format, with both layout engines."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from click.testing import CliRunner

from zuora_pipeline.cli import main
from zuora_pipeline.diagrams.render import graphviz_available

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _graph(name: str, workflow_id: int, fmt: str, engine: str = "auto") -> bytes:
    result = CliRunner().invoke(
        main,
        ["workflows", "graph", name, str(workflow_id), "--format", fmt, "--engine", engine],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _expected(export: dict[str, Any] | None) -> tuple[set[str], set[tuple[str, str, str]]]:
    tasks = (export or {}).get("tasks") or []
    node_of = {task["id"]: f"t{n}" for n, task in enumerate(tasks)}
    nodes = {"start", *node_of.values()}
    edges = {
        (
            "start" if link["source_task_id"] is None else node_of[link["source_task_id"]],
            node_of[link["target_task_id"]],
            link["linkage_type"],
        )
        for link in (export or {}).get("linkages") or []
    }
    return nodes, edges


def _svg_parts(svg: str) -> tuple[set[str], list[str]]:
    """Node and edge titles of an SVG from Graphviz or from the grandalf path (same structure)."""
    nodes = {html.unescape(t) for t in re.findall(r'class="node">\s*<title>(.*?)</title>', svg)}
    edges = [html.unescape(t) for t in re.findall(r'class="edge">\s*<title>(.*?)</title>', svg)]
    return nodes, edges


@pytest.fixture
def drawn_tenant(pipeline: Any, sim_tenant: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict]:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    tenant = sim_tenant(workflows=20, tasks=10)  # holds a 0-task and a 60-task workflow
    pipeline.simulator.admin.add_workflow(tenant.name, tasks=1, name="Single task")
    name = pipeline.add_customer(tenant)
    outcome = pipeline.sync(name)
    assert outcome.success, outcome.error
    return name, pipeline.simulator.admin.truth(tenant.name)


def test_every_task_and_linkage_is_drawn_in_every_format(drawn_tenant: tuple[str, dict]) -> None:
    assert graphviz_available(), "Graphviz `dot` must be installed (.ci/run installs the graphviz package)"
    name, truth = drawn_tenant
    sizes = {zid: len((item["export"] or {}).get("tasks") or []) for zid, item in truth.items() if item["export"]}
    assert {0, 1, 60} <= set(sizes.values())
    branching = [
        zid
        for zid, item in truth.items()
        if item["export"]
        and len({link["source_task_id"] for link in item["export"]["linkages"]}) < len(item["export"]["linkages"])
    ]
    assert branching, "the tenant has no branching workflow"
    for zid in sizes:
        nodes, edges = _expected(truth[zid]["export"])
        dot = _graph(name, zid, "dot").decode()
        assert {m for m in re.findall(r"^  (\w+) \[label=", dot, re.M)} == nodes
        assert {(s, t, k) for s, t, k in re.findall(r'^  (\w+) -> (\w+) \[label="([^"]*)"', dot, re.M)} == edges
        mermaid = _graph(name, zid, "mermaid").decode()
        assert mermaid.startswith("---\ntitle:")
        assert {(s, t, k) for s, k, t in re.findall(r'^  (\w+) -->\|"([^"]*)"\| (\w+)$', mermaid, re.M)} == edges
        for engine in ("graphviz", "grandalf"):
            svg_nodes, svg_edges = _svg_parts(_graph(name, zid, "svg", engine).decode())
            assert svg_nodes == nodes, f"workflow {zid} ({engine}): nodes differ"
            assert sorted(svg_edges) == sorted(f"{s}->{t}" for s, t, _ in edges), f"workflow {zid} ({engine})"

    special = {n: zid for zid, n in sizes.items() if n in (0, 1, 60)}
    for zid in [*special.values(), branching[0]]:
        for engine in ("graphviz", "grandalf"):
            png = _graph(name, zid, "png", engine)
            assert png.startswith(PNG_SIGNATURE), f"workflow {zid} ({engine}) is not a PNG"
    big, empty = _graph(name, special[60], "png", "grandalf"), _graph(name, special[0], "png", "grandalf")
    assert len(big) > 20 * len(empty)


def test_graph_of_an_older_revision_and_errors(drawn_tenant: tuple[str, dict], tmp_path: Any) -> None:
    name, truth = drawn_tenant
    zid = next(zid for zid, item in truth.items() if item["export"] and item["export"]["tasks"])
    out = tmp_path / "wf.svg"
    written = CliRunner().invoke(main, ["workflows", "graph", name, str(zid), "--revision", "1", "-o", str(out)])
    assert written.exit_code == 0 and out.read_text().lstrip().startswith(("<?xml", "<svg"))
    missing = CliRunner().invoke(main, ["workflows", "graph", name, str(zid), "--revision", "9"])
    assert missing.exit_code == 2 and "revision 9" in missing.output
