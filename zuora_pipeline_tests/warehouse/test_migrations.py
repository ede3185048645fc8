import pytest
import sqlalchemy as sa

from zuora_pipeline.warehouse import migrate
from zuora_pipeline.warehouse.engine import create_warehouse_engine
from zuora_pipeline.warehouse.migrate import SchemaMissingError


def test_upgrade_is_idempotent_on_sqlite(tmp_path):
    engine = create_warehouse_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    with pytest.raises(SchemaMissingError, match="zuora-pipeline db upgrade"):
        migrate.require_schema(engine)
    assert migrate.upgrade(engine) == (None, migrate.head_revision())
    assert migrate.upgrade(engine) == (migrate.head_revision(), migrate.head_revision())
    migrate.require_schema(engine)
    assert {"customers", "workflows", "tasks", "raw_workflow_pages", "raw_workflow_exports", "sync_runs"} <= set(
        sa.inspect(engine).get_table_names()
    )


def test_upgrade_is_idempotent_on_postgres(pg_url):
    engine = create_warehouse_engine(pg_url)
    before, after = migrate.upgrade(engine)
    assert before == after == migrate.head_revision()
    migrate.require_schema(engine)
    columns = {c["name"]: c for c in sa.inspect(engine).get_columns("workflows")}
    assert type(columns["json_export"]["type"]).__name__ == "JSONB"
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("workflows")}
    assert {"ix_workflows_customer_id", "ix_workflows_zuora_id", "ix_workflows_state"} <= indexes


def _drift(engine) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from zuora_pipeline.warehouse.schema import metadata

    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)


def test_migrations_build_exactly_the_schema_in_code_on_sqlite(tmp_path):
    engine = create_warehouse_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    migrate.upgrade(engine)
    assert _drift(engine) == [], "schema.py changed without a migration"


def test_migrations_build_exactly_the_schema_in_code_on_postgres(pg_url):
    assert _drift(create_warehouse_engine(pg_url)) == [], "schema.py changed without a migration"


def test_tasks_have_no_index_duplicating_the_unique_one_and_lookups_use_it(pg_url):
    engine = create_warehouse_engine(pg_url)
    migrate.upgrade(engine)
    indexes = {i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("tasks")}
    assert "ix_tasks_workflow_id" not in indexes
    with engine.connect() as conn:
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(conn.execute(sa.text("EXPLAIN SELECT id FROM tasks WHERE workflow_id = 1")).scalars())
    assert "uq_tasks_workflow_id_zuora_id" in plan, plan


def test_export_columns_compress_with_lz4_on_postgres(pg_url):
    from importlib import import_module

    columns = import_module("zuora_pipeline.warehouse.migrations.versions.0008_exports_lz4_compression").EXPORT_COLUMNS
    engine = create_warehouse_engine(pg_url)
    with engine.connect() as conn:
        methods = {
            (table, column): conn.execute(
                sa.text(
                    "SELECT attcompression FROM pg_attribute WHERE attrelid = CAST(:table AS regclass) "
                    "AND attname = :column"
                ),
                {"table": table, "column": column},
            ).scalar()
            for table, column in columns
        }
    assert set(methods.values()) == {"l"}, methods
    assert {"workflows", "workflow_revisions", "raw_workflow_exports", "raw_export_staging"} == {t for t, _ in columns}
