"""The pipeline added to another Dagster project, as a platform team would: a ``defs.yaml`` naming
``ZuoraPipelineComponent`` in the project's defs folder, next to the project's own assets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest

from zuora_pipeline.defs.component import ZuoraPipelineComponent
from zuora_pipeline.defs.factory import build_definitions
from zuora_pipeline.defs.options import PipelineOptions

PYPROJECT = """
[project]
name = "host-project"
version = "0.0.1"

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "host_project"
"""
DEFINITIONS = """
from pathlib import Path

import dagster as dg


@dg.definitions
def defs():
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
"""
COMPONENT_YAML = """
type: zuora_pipeline.defs.component.ZuoraPipelineComponent
attributes:
  key_prefix: [billing, zuora]
  group: billing_zuora
  owners: ["team:billing-ops"]
  warehouse_key: zuora_warehouse
  customers_per_run: 10
"""
OTHER_ASSET = """
import dagster as dg


@dg.asset(key_prefix=["sales"])
def orders() -> None:
    return None
"""
LOAD = """
import json
import host_project.definitions as module
defs = module.defs()
import dagster as dg
dg.Definitions.validate_loadable(defs)
repo = defs.get_repository_def()
workflows = [s for s in defs.resolve_all_asset_specs() if s.key.to_user_string() == "billing/zuora/workflows"][0]
print(json.dumps({
    "keys": sorted(k.to_user_string() for k in defs.resolve_all_asset_keys()),
    "group": workflows.group_name,
    "owners": list(workflows.owners),
    "resources": sorted(repo.get_top_level_resources()),
    "jobs": sorted(j.name for j in repo.get_all_jobs()),
    "policy": defs.resolve_assets_def(workflows.key).backfill_policy.max_partitions_per_run,
}))
"""


@pytest.fixture
def host_project(tmp_path: Path) -> Path:
    package = tmp_path / "host_project"
    (package / "defs" / "zuora").mkdir(parents=True)
    (package / "defs" / "sales").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (package / "definitions.py").write_text(textwrap.dedent(DEFINITIONS))
    (package / "defs" / "zuora" / "defs.yaml").write_text(COMPONENT_YAML)
    (package / "defs" / "sales" / "assets.py").write_text(OTHER_ASSET)
    return tmp_path


def _env(project: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(project)}


def test_the_component_loads_next_to_another_projects_assets(host_project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", LOAD],
        cwd=host_project,
        env=_env(host_project),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "sales/orders" in loaded["keys"]
    assert {
        f"billing/zuora/{name}" for name in ("workflow_pages", "workflow_exports", "workflows", "workflow_tasks")
    } <= set(loaded["keys"])
    assert not [k for k in loaded["keys"] if k.startswith("zuora/")], "the default prefix leaked"
    assert (loaded["group"], loaded["owners"]) == ("billing_zuora", ["team:billing-ops"])
    assert {"zuora_warehouse", "zuora", "alerts"} <= set(loaded["resources"])
    assert {"sync_customer_workflows", "reextract_tasks", "fleet_quality_checks"} <= set(loaded["jobs"])
    assert loaded["policy"] == 10


def test_dg_checks_the_host_project(host_project: Path) -> None:
    dg_cli = str(Path(sys.executable).with_name("dg"))
    result = subprocess.run(
        [dg_cli, "check", "defs"], cwd=host_project, env=_env(host_project), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def _placeholders(*keys: str) -> dict[str, dg.ResourceDefinition]:
    return dict.fromkeys(keys, dg.ResourceDefinition.none_resource())


def test_without_its_resources_the_host_provides_them() -> None:
    component = ZuoraPipelineComponent(provide_resources=False, warehouse_key="shared_warehouse")
    defs = dg.build_defs_for_component(component)
    assert not defs.resources
    host = dg.Definitions(resources=_placeholders("shared_warehouse", "zuora", "alerts"))
    merged = dg.Definitions.merge(defs, host)
    sync = merged.resolve_assets_def(dg.AssetKey(["zuora", "workflows"]))
    assert {"shared_warehouse", "zuora"} <= set(sync.required_resource_keys)
    dg.Definitions.validate_loadable(merged)


def test_two_copies_with_other_prefixes_do_not_collide() -> None:
    resources = _placeholders("warehouse", "zuora", "alerts")
    first = build_definitions(
        PipelineOptions(key_prefix=("eu", "zuora"), partitions_name="eu_customers"), resources=resources
    )
    second = build_definitions(PipelineOptions(key_prefix=("us", "zuora")), resources=resources)
    assert not set(first.resolve_all_asset_keys()) & set(second.resolve_all_asset_keys())
    assert first.resolve_assets_def(dg.AssetKey(["eu", "zuora", "workflows"])).partitions_def.name == "eu_customers"
