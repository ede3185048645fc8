"""The package's declared requirements are what it imports: every third-party module imported
anywhere in zuora_pipeline/ comes from a runtime requirement, or from the extra that
zuora_pipeline/extras.py names for it (whose message tells the user what to install); and each
runtime requirement is imported somewhere."""

from __future__ import annotations

import ast
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement

from zuora_pipeline.extras import EXTRA_OF_MODULE

PACKAGE = Path(__file__).resolve().parents[1] / "zuora_pipeline"
# Imported for a fallback that handles their absence (the simulator's load check): not required.
GUARDED = {"sniffio"}
# Installed with the runtime requirement that pins their version exactly: pydantic's compiled
# core, Dagster's shared modules.
PINNED_BY = {"pydantic_core": "pydantic", "dagster_shared": "dagster"}
# Required but never imported by name: the warehouse's PostgreSQL driver, which SQLAlchemy loads
# for the URLs' `postgresql+psycopg`.
LOADED_BY_URL = {"psycopg"}


def _third_party_imports() -> set[str]:
    modules: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.partition(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m not in ("zuora_pipeline", "__future__")}


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    """Runtime requirement names, and each extra's requirement names (normalized)."""
    runtime: set[str] = set()
    extras: dict[str, set[str]] = {}
    for line in requires("zuora-pipeline") or []:
        req = Requirement(line)
        name = req.name.lower().replace("_", "-")
        marker = str(req.marker) if req.marker else ""
        if "extra ==" in marker:
            extras.setdefault(marker.split('"')[1], set()).add(name)
        else:
            runtime.add(name)
    return runtime, extras


def _distributions(module: str) -> set[str]:
    return {d.lower().replace("_", "-") for d in packages_distributions().get(module, [])}


def test_every_imported_module_is_a_runtime_requirement_or_an_extras() -> None:
    runtime, extras = _declared()
    for module in sorted(_third_party_imports() - GUARDED):
        if module in PINNED_BY:
            assert PINNED_BY[module] in runtime
            continue
        provided_by = _distributions(module)
        assert provided_by, f"{module} is imported but installed by no distribution"
        if module in EXTRA_OF_MODULE:
            extra = EXTRA_OF_MODULE[module]
            assert provided_by & extras[extra], f"{module} should come with the {extra} extra"
            assert not provided_by & runtime, f"{module} is both required and the {extra} extra's"
        else:
            assert provided_by & runtime, f"{module} ({provided_by}) is imported but not a runtime requirement"


def test_every_runtime_requirement_is_imported() -> None:
    runtime, _ = _declared()
    imported = set().union(*(_distributions(m) for m in _third_party_imports()))
    assert runtime - imported == LOADED_BY_URL


def test_each_extra_named_for_a_module_exists_and_dev_has_them_all() -> None:
    _, extras = _declared()
    assert set(EXTRA_OF_MODULE.values()) <= set(extras)
    for name, reqs in extras.items():
        assert reqs <= extras["dev"], f"dev lacks the {name} extra's {reqs - extras['dev']}"
