"""The layers hold: the lower packages import no Dagster and nothing imports the definitions back;
one module makes the sync record's transitions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "zuora_pipeline"
BELOW_DAGSTER = ["zuora", "warehouse", "logic", "sync", "audit", "diagrams"]
TRANSITIONS = {"started", "progress", "succeeded", "failed", "paused"}


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("folder", BELOW_DAGSTER)
def test_the_lower_layers_import_no_dagster_and_nothing_above_them(folder: str) -> None:
    above = (
        "dagster",
        "zuora_pipeline.defs",
        "zuora_pipeline.runs",
        "zuora_pipeline.cli",
        "zuora_pipeline.definitions",
    )
    for path in _modules(folder):
        bad = sorted(m for m in _imports(path) if m.startswith(above))
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_nothing_but_the_run_services_imports_the_definitions() -> None:
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "runs" or relative.name == "definitions.py":
            continue
        assert "zuora_pipeline.definitions" not in _imports(path), relative


def test_one_module_makes_the_sync_records_transitions() -> None:
    writers = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in TRANSITIONS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "sync_runs"
            ):
                writers.add(str(path.relative_to(PACKAGE)))
    assert writers == {"sync/customer.py"}
