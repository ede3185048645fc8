"""The analyst views as SQLAlchemy selects: what each view's columns are and which tables it reads.

The views themselves were created by migration 0003 from the same statements written as SQL; a
test holds the two equal (the columns of each view in a migrated database are these selects'
columns). The Dagster catalog builds the views' column schemas and lineage from here.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.util import find_tables

from zuora_pipeline.warehouse.schema import customers, tasks, workflow_changes, workflow_revisions, workflows

_c = customers.alias("c")
_w = workflows.alias("w")
_t = tasks.alias("t")
_r = workflow_revisions.alias("r")
_h = workflow_changes.alias("h")

_task_count = (
    sa.select(sa.func.count()).select_from(_t).where(_t.c.workflow_id == _w.c.id).scalar_subquery().label("task_count")
)

ANALYST_VIEWS: dict[str, sa.Select] = {
    "analyst_workflows": sa.select(
        _c.c.name.label("customer"),
        _c.c.display_name.label("customer_display_name"),
        _w.c.zuora_id.label("workflow_id"),
        _w.c.name.label("workflow_name"),
        _w.c.description,
        _w.c.state,
        _w.c.active_version.label("zuora_version"),
        _task_count,
        _w.c.created_on.label("created_in_zuora_at"),
        _w.c.updated_on.label("updated_in_zuora_at"),
        _w.c.last_synced_at,
        _w.c.deleted_at,
        _w.c.deleted_at.is_not(None).label("is_deleted"),
    ).select_from(_w.join(_c, _c.c.id == _w.c.customer_id)),
    "analyst_tasks": sa.select(
        _c.c.name.label("customer"),
        _w.c.zuora_id.label("workflow_id"),
        _w.c.name.label("workflow_name"),
        _t.c.zuora_id.label("task_id"),
        _t.c.name.label("task_name"),
        _t.c.task_type.label("task_family"),
        _t.c.action_type,
        _t.c.call_type,
        _t.c.object.label("zuora_object"),
        _t.c.priority,
        _t.c.parent_task_id,
        _t.c.data.label("parameters"),
        _w.c.deleted_at.is_not(None).label("workflow_deleted"),
        _t.c.updated_at.label("synced_at"),
    ).select_from(_t.join(_w, _w.c.id == _t.c.workflow_id).join(_c, _c.c.id == _w.c.customer_id)),
    "analyst_workflow_revisions": sa.select(
        _c.c.name.label("customer"),
        _r.c.workflow_zuora_id.label("workflow_id"),
        _r.c.revision,
        _r.c.name.label("workflow_name"),
        _r.c.state,
        _r.c.active_version.label("zuora_version"),
        _r.c.task_count,
        _r.c.first_seen_at,
        _r.c.first_seen_run_id,
        _r.c.last_seen_at,
        _r.c.last_seen_run_id,
        _r.c.superseded_at,
        _r.c.superseded_at.is_(None).label("is_current"),
        _r.c.json_export.label("export"),
    ).select_from(_r.join(_c, _c.c.id == _r.c.customer_id)),
    "analyst_workflow_changes": sa.select(
        _c.c.name.label("customer"),
        _h.c.workflow_zuora_id.label("workflow_id"),
        _h.c.workflow_name,
        _h.c.change,
        _h.c.revision,
        _h.c.previous_revision,
        _h.c.summary,
        _h.c.tasks_added,
        _h.c.tasks_removed,
        _h.c.tasks_changed,
        _h.c.linkages_changed,
        _h.c.settings_changed,
        _h.c.run_id,
        _h.c.changed_at,
    ).select_from(_h.join(_c, _c.c.id == _h.c.customer_id)),
}


def tables_read(view: str) -> list[str]:
    """The tables a view reads (its joins and subqueries), by name."""
    found = find_tables(ANALYST_VIEWS[view], check_columns=True)
    return sorted({table.name for table in found if isinstance(table, sa.Table)})
