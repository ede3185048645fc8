"""``workflows graph`` refuses what it cannot draw truthfully, in one line with exit code 2: a
workflow without an export, a file suffix that contradicts --format, a file it cannot write; it
infers the format from -o's suffix, and every format's title names customer, workflow and
revision."""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner
from PIL import Image

from zuora_pipeline.cli import main
from zuora_pipeline.diagrams.model import title

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, ["workflows", "graph", *args])


@pytest.fixture
def synced(pipeline: Any, sim_tenant: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    tenant = sim_tenant(workflows=6, tasks=4)
    name = pipeline.add_customer(tenant)
    assert pipeline.sync(name).success
    truth = pipeline.simulator.admin.truth(tenant.name)
    drawn = next(zid for zid, item in truth.items() if item["export"] and item["export"]["tasks"])
    blank = next(zid for zid, item in truth.items() if item["export"] is None)
    return {"customer": name, "drawn": drawn, "blank": blank, "name": truth[drawn]["list_item"]["name"]}


def _mermaid_decoded(text: str) -> str:
    for code, char in (("#lt;", "<"), ("#gt;", ">"), ("#quot;", '"'), ("#124;", "|"), ("#amp;", "&")):
        text = text.replace(code, char)
    return text


def _one_error_line(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_a_workflow_without_an_export_is_an_error(synced: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "blank.svg"
    line = _one_error_line(_run(synced["customer"], str(synced["blank"]), "-o", str(out)))
    assert "no export" in line and str(synced["blank"]) in line
    assert not out.exists()


def test_the_format_follows_the_suffix_and_a_contradiction_is_refused(synced: dict[str, Any], tmp_path: Path) -> None:
    customer, zid = synced["customer"], str(synced["drawn"])
    contradiction = tmp_path / "out.svg"
    line = _one_error_line(_run(customer, zid, "-o", str(contradiction), "--format", "png"))
    assert "--format png" in line and ".svg" in line
    assert not contradiction.exists()
    for suffix, starts in ((".png", PNG_SIGNATURE), (".svg", b"<?xml"), (".dot", b"digraph"), (".mmd", b"---")):
        out = tmp_path / f"graph{suffix}"
        result = _run(customer, zid, "-o", str(out))
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(starts), suffix
    assert "pass --format" in _one_error_line(_run(customer, zid, "-o", str(tmp_path / "graph.txt")))
    agreed = tmp_path / "agreed.png"
    assert _run(customer, zid, "-o", str(agreed), "--format", "png").exit_code == 0
    assert agreed.read_bytes().startswith(PNG_SIGNATURE)


def test_a_file_that_cannot_be_written_is_one_line(synced: dict[str, Any], tmp_path: Path) -> None:
    line = _one_error_line(_run(synced["customer"], str(synced["drawn"]), "-o", str(tmp_path / "no" / "dir" / "x.png")))
    assert "cannot write" in line


@pytest.mark.parametrize("engine", ["graphviz", "grandalf"])
def test_every_format_is_titled_with_customer_workflow_and_revision(
    synced: dict[str, Any], tmp_path: Path, engine: str
) -> None:
    customer, zid = synced["customer"], synced["drawn"]
    expected = title(customer, synced["name"], zid, 1)
    svg = tmp_path / "g.svg"
    assert _run(customer, str(zid), "-o", str(svg), "--engine", engine).exit_code == 0
    assert expected in html.unescape(svg.read_text())
    dot = CliRunner().invoke(main, ["workflows", "graph", customer, str(zid), "--format", "dot"]).output
    assert expected in html.unescape(dot)  # Graphviz decodes entities in labels
    mermaid = CliRunner().invoke(main, ["workflows", "graph", customer, str(zid), "--format", "mermaid"]).output
    assert expected in _mermaid_decoded(mermaid)
    png = tmp_path / "g.png"
    assert _run(customer, str(zid), "-o", str(png), "--engine", engine).exit_code == 0
    image = Image.open(io.BytesIO(png.read_bytes())).convert("L")
    darkest, _ = image.crop((0, 0, image.width, 24)).getextrema()
    assert cast(int, darkest) < 100  # the title's text at the top
