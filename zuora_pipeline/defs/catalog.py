"""What the catalog says about the warehouse: each asset's table and its columns, built from the
SQLAlchemy tables and the analyst views' selects (one source, no hand-written copy)."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.sync.results import WORKFLOW_EXPORTS, WORKFLOW_PAGES, WORKFLOW_TASKS, WORKFLOWS
from zuora_pipeline.warehouse import schema
from zuora_pipeline.warehouse.views import ANALYST_VIEWS, tables_read

# The table each sync asset is stored in, and the tables its stage writes with it.
ASSET_TABLES: dict[str, tuple[sa.Table, ...]] = {
    WORKFLOW_PAGES: (schema.raw_workflow_pages,),
    WORKFLOW_EXPORTS: (schema.raw_workflow_exports, schema.raw_export_staging),
    WORKFLOWS: (schema.workflows, schema.workflow_revisions, schema.workflow_changes),
    WORKFLOW_TASKS: (schema.tasks, schema.workflow_search_texts),
}
# Never shown: a column that holds a secret, even encrypted.
_HIDDEN_COLUMNS = {"client_secret_encrypted"}


def _column(column: sa.ColumnElement, table: sa.Table | None) -> dg.TableColumn:
    unique = bool(table is not None and any(c.name == column.name for c in table.primary_key.columns))
    nullable = bool(getattr(column, "nullable", True))
    return dg.TableColumn(
        name=str(column.name),
        type=str(column.type),
        description=getattr(column, "comment", None),
        constraints=dg.TableColumnConstraints(nullable=nullable, unique=unique),
    )


def table_schema(table: sa.Table) -> dg.TableSchema:
    return dg.TableSchema(columns=[_column(c, table) for c in table.columns if c.name not in _HIDDEN_COLUMNS])


def view_schema(view: str) -> dg.TableSchema:
    return dg.TableSchema(columns=[_column(c, None) for c in ANALYST_VIEWS[view].selected_columns])


def table_metadata(name: str, table_schema_: dg.TableSchema, others: Iterable[str] = ()) -> dict[str, object]:
    metadata: dict[str, object] = {"dagster/table_name": name, "dagster/column_schema": table_schema_}
    written = list(others)
    if written:
        metadata["also_writes"] = ", ".join(written)
    return metadata


def asset_metadata(asset: str) -> dict[str, object]:
    main, *others = ASSET_TABLES[asset]
    return table_metadata(main.name, table_schema(main), (t.name for t in others))


def view_assets(view: str) -> list[str]:
    """The sync assets that write the tables a view reads (its upstream in the lineage)."""
    read = set(tables_read(view))
    return [asset for asset, tables in ASSET_TABLES.items() if read & {t.name for t in tables}]
