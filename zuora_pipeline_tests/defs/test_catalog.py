"""The catalog tells the truth about the warehouse: each asset's table and columns come from the
SQLAlchemy tables, the analyst views are assets with the columns the database really has and
lineage from the tables they read, and owners, tags and kinds are as configured."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from zuora_pipeline.definitions import defs
from zuora_pipeline.defs.factory import build_definitions
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.warehouse import schema
from zuora_pipeline.warehouse.views import ANALYST_VIEWS

TABLES = {
    "zuora/workflow_pages": schema.raw_workflow_pages,
    "zuora/workflow_exports": schema.raw_workflow_exports,
    "zuora/workflows": schema.workflows,
    "zuora/workflow_tasks": schema.tasks,
}


def _placeholders(options: PipelineOptions) -> dict[str, dg.ResourceDefinition]:
    none = dg.ResourceDefinition.none_resource()
    return {options.warehouse_key: none, options.zuora_key: none, options.alerts_key: none}


def _specs(definitions: dg.Definitions = defs) -> dict[str, dg.AssetSpec]:
    return {spec.key.to_user_string(): spec for spec in definitions.resolve_all_asset_specs()}


@pytest.mark.parametrize("key", sorted(TABLES))
def test_each_sync_asset_names_its_table_and_every_column(key: str) -> None:
    spec = _specs()[key]
    table = TABLES[key]
    assert spec.metadata["dagster/table_name"] == table.name
    columns = spec.metadata["dagster/column_schema"].columns
    assert [c.name for c in columns] == [c.name for c in table.columns]
    nullable = {c.name: c.constraints.nullable for c in columns}
    assert nullable == {c.name: bool(c.nullable) for c in table.columns}


def test_no_column_of_a_secret_is_in_the_catalog() -> None:
    for spec in _specs().values():
        schema_value = spec.metadata.get("dagster/column_schema")
        names = {c.name for c in schema_value.columns} if schema_value is not None else set()
        assert not {n for n in names if "secret" in n}, spec.key


@pytest.mark.parametrize("engine_name", ["pg_engine", "sqlite_engine"])
def test_the_views_columns_are_the_databases(request: pytest.FixtureRequest, engine_name: str) -> None:
    engine: sa.Engine = request.getfixturevalue(engine_name)
    inspector = sa.inspect(engine)
    specs = _specs()
    for view, select in ANALYST_VIEWS.items():
        in_database = [c["name"] for c in inspector.get_columns(view)]
        assert in_database == [c.name for c in select.selected_columns], view
        columns = specs[f"zuora/{view}"].metadata["dagster/column_schema"].columns
        assert [c.name for c in columns] == in_database, view


def test_the_views_lineage_comes_from_the_tables_they_read() -> None:
    specs = _specs()
    deps = {view: sorted(d.asset_key.to_user_string() for d in specs[f"zuora/{view}"].deps) for view in ANALYST_VIEWS}
    assert deps == {
        "analyst_workflows": ["zuora/workflow_tasks", "zuora/workflows"],
        "analyst_tasks": ["zuora/workflow_tasks", "zuora/workflows"],
        "analyst_workflow_revisions": ["zuora/workflows"],
        "analyst_workflow_changes": ["zuora/workflows"],
    }


def test_owners_tags_and_kinds_follow_the_options() -> None:
    options = PipelineOptions(owners=("team:billing-ops",), tags={"tier": "gold"}, warehouse_kind="postgres")
    specs = _specs(build_definitions(options, resources=_placeholders(options)))
    for key in (*TABLES, *(f"zuora/{v}" for v in ANALYST_VIEWS)):
        spec = specs[key]
        assert list(spec.owners) == ["team:billing-ops"], key
        assert spec.tags["tier"] == "gold" and spec.tags["domain"] == "billing", key
        assert "postgres" in spec.kinds and "sqlite" not in spec.kinds, key
    assert "zuora" in specs["zuora/workflow_pages"].kinds


def test_the_kind_is_the_warehouses_dialect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZUORA_PIPELINE_DATABASE_URL", "postgresql+psycopg://u@db/w")
    assert PipelineOptions.from_environment().warehouse_kind == "postgres"
    monkeypatch.setenv("ZUORA_PIPELINE_DATABASE_URL", "sqlite:///x.sqlite")
    assert PipelineOptions.from_environment().warehouse_kind == "sqlite"


def test_the_mirror_has_a_freshness_policy_of_the_staleness_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZUORA_PIPELINE_STALE_AFTER_MINUTES", "45")
    options = PipelineOptions.from_environment()
    assert options.stale_after == timedelta(minutes=45)
    spec = _specs(build_definitions(options, resources=_placeholders(options)))["zuora/workflows"]
    assert spec.freshness_policy == dg.FreshnessPolicy.time_window(fail_window=timedelta(minutes=45))
