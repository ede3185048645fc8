"""The resources take their configuration as fields, shown on the UI's Resources page; the secret
key never in clear. Nothing below ``defs/`` reads the environment."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster_graphql.schema.resources import GrapheneConfiguredValue

from zuora_pipeline.defs.resources import ZuoraResource, environment_resources
from zuora_pipeline.zuora.settings import DEFAULT_CONCURRENCY
from zuora_pipeline_tests.fixtures.dagster_internals import RepositorySnap

PACKAGE = Path(__file__).resolve().parents[2] / "zuora_pipeline"
KEY = "k" * 43 + "="


def _resources_page(resources: dict) -> dict[str, dict[str, tuple[str, str]]]:
    """resource -> field -> (type, value) as the Resources page's GraphQL serves them."""
    defs = dg.Definitions(resources=resources)
    snap = RepositorySnap.from_def(defs.get_repository_def())
    page = {}
    for resource in snap.resources or []:
        secret = {f.name: bool(f.is_secret) for f in resource.config_field_snaps}
        values = [GrapheneConfiguredValue(k, v, secret.get(k, False)) for k, v in resource.configured_values.items()]
        page[resource.name] = {
            v.key: (v.type.value if hasattr(v.type, "value") else str(v.type), v.value) for v in values
        }
    return page


def test_resources_page_shows_the_variables_when_they_are_set(monkeypatch):
    monkeypatch.setenv("ZUORA_PIPELINE_DATABASE_URL", "postgresql+psycopg://zuora:pw@db/warehouse")
    monkeypatch.setenv("ZUORA_PIPELINE_SECRET_KEY", KEY)
    monkeypatch.setenv("ZUORA_PIPELINE_ALLOWED_HOSTS", "127.0.0.1:8089")

    page = _resources_page(environment_resources())

    assert page["warehouse"]["database_url"] == ("ENV_VAR", "ZUORA_PIPELINE_DATABASE_URL")
    assert page["zuora"]["secret_key"] == ("ENV_VAR", "ZUORA_PIPELINE_SECRET_KEY")
    assert page["zuora"]["allowed_hosts"] == ("ENV_VAR", "ZUORA_PIPELINE_ALLOWED_HOSTS")
    shown = repr(page)
    assert KEY not in shown and "pw@db" not in shown


def test_resources_page_shows_the_defaults_when_nothing_is_set(monkeypatch, tmp_path):
    for var in ("ZUORA_PIPELINE_DATABASE_URL", "ZUORA_PIPELINE_SECRET_KEY", "ZUORA_PIPELINE_ALLOWED_HOSTS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ZUORA_PIPELINE_DATA_DIR", str(tmp_path))

    page = _resources_page(environment_resources())

    # The zero-set-up warehouse: a SQLite file in the data directory.
    assert page["warehouse"]["database_url"] == ("VALUE", f'"sqlite:///{tmp_path / "warehouse.sqlite"}"')
    assert page["zuora"]["allowed_hosts"] == ("VALUE", '""')
    assert page["zuora"]["concurrency"] == ("VALUE", str(DEFAULT_CONCURRENCY))


def test_a_literal_secret_key_is_masked():
    page = _resources_page({"zuora": ZuoraResource(secret_key=KEY)})
    assert page["zuora"]["secret_key"][0] == "SECRET"
    assert KEY not in repr(page)


def _reads_environment(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            found.append(f"{path.name}:{node.lineno} os.{node.attr}")
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "zuora_pipeline"
            and any(a.name == "config" for a in node.names)
        ):
            found.append(f"{path.name}:{node.lineno} imports config")
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in ("environ", "getenv") for a in node.names)
        ):
            found.append(f"{path.name}:{node.lineno} from os import")
    return found


def test_nothing_below_defs_reads_the_environment():
    lower = [PACKAGE / "crypto.py"]
    for layer in ("zuora", "warehouse", "sync", "steps"):
        lower += sorted((PACKAGE / layer).rglob("*.py"))
    offenders = [hit for path in lower for hit in _reads_environment(path)]
    assert offenders == []


def test_a_missing_secret_key_fails_the_run_with_the_how_to(pipeline, sim_tenant, monkeypatch):
    name = pipeline.add_customer(sim_tenant(workflows=2, tasks=1))
    monkeypatch.delenv("ZUORA_PIPELINE_SECRET_KEY")
    outcome = pipeline.sync(name)
    assert not outcome.success
    assert "ZUORA_PIPELINE_SECRET_KEY is not set" in outcome.error and "zuora-pipeline secret-key" in outcome.error


def test_the_code_location_loads_with_no_variable_set(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(PACKAGE.parent)}
    code = "from zuora_pipeline.definitions import defs; print(defs.resources['warehouse'].database_url)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"sqlite:///{tmp_path / '.zuora_pipeline' / 'warehouse.sqlite'}"
