"""The history tables: append-only workflow revisions and the change log.

Written only inside the caller's transaction (the same one that writes the current state), so a
revision exists exactly when the ``workflows`` row it copies does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import customers, workflow_changes, workflow_revisions, workflows

CHUNK = 500
_Query = TypeVar("_Query", bound=sa.Select[Any])


class HistoryError(LookupError):
    """A workflow or revision asked for is not in the history."""


@dataclass(frozen=True)
class Identity:
    """What makes two revisions different: the export and what the listing says about it."""

    name: str
    description: str | None
    state: str | None
    active_version: str | None
    export_hash: str | None


@dataclass(frozen=True)
class Latest:
    revision: int
    identity: Identity


@dataclass(frozen=True)
class Revision:
    revision: int
    name: str
    state: str | None
    active_version: str | None
    task_count: int | None
    first_seen_at: datetime
    first_seen_run_id: str | None
    last_seen_at: datetime
    last_seen_run_id: str | None
    superseded_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "name": self.name,
            "state": self.state,
            "zuora_version": self.active_version,
            "task_count": self.task_count,
            "first_seen_at": iso(self.first_seen_at),
            "first_seen_run_id": self.first_seen_run_id,
            "last_seen_at": iso(self.last_seen_at),
            "last_seen_run_id": self.last_seen_run_id,
            "current": self.superseded_at is None,
        }


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands timestamps back without their (UTC) zone."""
    if value is None:
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()


def _chunks(values: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def latest(conn: sa.Connection, customer_id: int) -> dict[int, Latest]:
    r = workflow_revisions
    query = sa.select(
        r.c.workflow_zuora_id, r.c.revision, r.c.name, r.c.description, r.c.state, r.c.active_version, r.c.export_hash
    ).where(r.c.customer_id == customer_id, r.c.superseded_at.is_(None))
    return {
        int(row.workflow_zuora_id): Latest(
            int(row.revision), Identity(row.name, row.description, row.state, row.active_version, row.export_hash)
        )
        for row in conn.execute(query)
    }


def _task_count(conn: sa.Connection, export: Any) -> Any:
    if conn.dialect.name == "postgresql":
        tasks = export.op("->")("tasks")
        return sa.case((sa.func.jsonb_typeof(tasks) == "array", sa.func.jsonb_array_length(tasks)), else_=None)
    return sa.func.json_array_length(export, "$.tasks")


def add_revisions(
    conn: sa.Connection, customer_id: int, zuora_ids: Sequence[int], *, run_id: str, at: datetime
) -> None:
    """Append the current ``workflows`` row of each workflow as its next revision, inside the
    database (the export does not travel through Python), and stamp the one it replaces."""
    r, w = workflow_revisions, workflows
    previous = r.alias("previous")
    next_revision = (
        sa.select(sa.func.coalesce(sa.func.max(previous.c.revision), 0) + 1)
        .where(previous.c.customer_id == w.c.customer_id, previous.c.workflow_zuora_id == w.c.zuora_id)
        .scalar_subquery()
    )
    columns = [
        "customer_id",
        "workflow_zuora_id",
        "revision",
        "name",
        "description",
        "state",
        "active_version",
        "export_hash",
        "json_export",
        "task_count",
        "first_seen_run_id",
        "first_seen_at",
        "last_seen_run_id",
        "last_seen_at",
    ]
    for chunk in _chunks(zuora_ids):
        conn.execute(
            sa.update(r)
            .where(r.c.customer_id == customer_id, r.c.workflow_zuora_id.in_(chunk), r.c.superseded_at.is_(None))
            .values(superseded_at=at)
        )
        select = sa.select(
            w.c.customer_id,
            w.c.zuora_id,
            next_revision,
            w.c.name,
            w.c.description,
            w.c.state,
            w.c.active_version,
            w.c.export_hash,
            w.c.json_export,
            _task_count(conn, w.c.json_export),
            sa.literal(run_id),
            sa.literal(at, type_=r.c.first_seen_at.type),
            sa.literal(run_id),
            sa.literal(at, type_=r.c.last_seen_at.type),
        ).where(w.c.customer_id == customer_id, w.c.zuora_id.in_(chunk))
        conn.execute(sa.insert(r).from_select(columns, select))


def mark_seen(conn: sa.Connection, customer_id: int, *, run_id: str, at: datetime) -> None:
    """The current revision of every live workflow was confirmed by this sync's listing."""
    r, w = workflow_revisions, workflows
    live = sa.exists().where(
        w.c.customer_id == r.c.customer_id, w.c.zuora_id == r.c.workflow_zuora_id, w.c.deleted_at.is_(None)
    )
    conn.execute(
        sa.update(r)
        .where(r.c.customer_id == customer_id, r.c.superseded_at.is_(None), live)
        .values(last_seen_at=at, last_seen_run_id=run_id)
    )


def revision_states(
    conn: sa.Connection, customer_id: int, wanted: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], tuple[Any, str | None]]:
    """(export, state) of each (workflow zuora id, revision)."""
    r = workflow_revisions
    found: dict[tuple[int, int], tuple[Any, str | None]] = {}
    by_workflow = {zid: rev for zid, rev in wanted}
    for chunk in _chunks(list(by_workflow)):
        query = sa.select(r.c.workflow_zuora_id, r.c.revision, r.c.json_export, r.c.state).where(
            r.c.customer_id == customer_id, r.c.workflow_zuora_id.in_(chunk)
        )
        for row in conn.execute(query):
            key = (int(row.workflow_zuora_id), int(row.revision))
            if by_workflow.get(key[0]) == key[1]:
                found[key] = (row.json_export, row.state)
    return found


def current_task_counts(conn: sa.Connection, customer_id: int, zuora_ids: Sequence[int]) -> dict[int, int | None]:
    r = workflow_revisions
    counts: dict[int, int | None] = {}
    for chunk in _chunks(zuora_ids):
        query = sa.select(r.c.workflow_zuora_id, r.c.task_count).where(
            r.c.customer_id == customer_id, r.c.workflow_zuora_id.in_(chunk), r.c.superseded_at.is_(None)
        )
        counts.update({int(zid): count for zid, count in conn.execute(query)})
    return counts


def add_changes(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(workflow_changes), list(rows))


# ---- reads for the CLI and the analysts -------------------------------------------------------


def revisions(conn: sa.Connection, customer_id: int, zuora_id: int) -> list[Revision]:
    """Every revision of the workflow, newest first."""
    r = workflow_revisions
    query = (
        sa.select(
            r.c.revision,
            r.c.name,
            r.c.state,
            r.c.active_version,
            r.c.task_count,
            r.c.first_seen_at,
            r.c.first_seen_run_id,
            r.c.last_seen_at,
            r.c.last_seen_run_id,
            r.c.superseded_at,
        )
        .where(r.c.customer_id == customer_id, r.c.workflow_zuora_id == zuora_id)
        .order_by(r.c.revision.desc())
    )
    return [Revision(**row._mapping) for row in conn.execute(query)]


def revision_state(
    conn: sa.Connection, customer_id: int, zuora_id: int, revision: int | None
) -> tuple[int, Any, str | None]:
    """(revision, export, state) of one revision; ``None`` means the newest."""
    r = workflow_revisions
    query = sa.select(r.c.revision, r.c.json_export, r.c.state).where(
        r.c.customer_id == customer_id, r.c.workflow_zuora_id == zuora_id
    )
    query = query.where(r.c.revision == revision) if revision is not None else query.order_by(r.c.revision.desc())
    row = conn.execute(query.limit(1)).first()
    if row is None:
        what = f"revision {revision} of workflow {zuora_id}" if revision is not None else f"workflow {zuora_id}"
        raise HistoryError(f"{what} is not in the history of this customer: see `zuora-pipeline workflows history`")
    return int(row.revision), row.json_export, row.state


@dataclass(frozen=True)
class Change:
    customer: str
    workflow_id: int
    workflow_name: str
    change: str
    revision: int | None
    previous_revision: int | None
    summary: str
    run_id: str
    changed_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "workflow_id": self.workflow_id,
            "workflow_name": self.workflow_name,
            "change": self.change,
            "revision": self.revision,
            "previous_revision": self.previous_revision,
            "summary": self.summary,
            "run_id": self.run_id,
            "changed_at": iso(self.changed_at),
        }


def _filtered(
    query: _Query, customer_ids: Sequence[int] | None, since: datetime | None, kinds: Sequence[str] | None
) -> _Query:
    h = workflow_changes
    if customer_ids is not None:
        query = query.where(h.c.customer_id.in_(list(customer_ids)))
    if since is not None:
        query = query.where(h.c.changed_at >= since)
    if kinds is not None:
        query = query.where(h.c.change.in_(list(kinds)))
    return query


def changes(
    conn: sa.Connection,
    *,
    customer_ids: Sequence[int] | None,
    since: datetime | None,
    kinds: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[Change]:
    """The change log, newest first: of these customers, since then, of these kinds (None: all),
    the first ``limit`` (None: all)."""
    h, c = workflow_changes, customers
    query = (
        sa.select(
            c.c.name.label("customer"),
            h.c.workflow_zuora_id.label("workflow_id"),
            h.c.workflow_name,
            h.c.change,
            h.c.revision,
            h.c.previous_revision,
            h.c.summary,
            h.c.run_id,
            h.c.changed_at,
        )
        .join(c, c.c.id == h.c.customer_id)
        .order_by(h.c.changed_at.desc(), h.c.id.desc())
    )
    query = _filtered(query, customer_ids, since, kinds)
    if limit is not None:
        query = query.limit(limit)
    return [Change(**row._mapping) for row in conn.execute(query)]


def count_changes(
    conn: sa.Connection,
    *,
    customer_ids: Sequence[int] | None,
    since: datetime | None,
    kinds: Sequence[str] | None = None,
) -> int:
    """How many entries ``changes`` would return without a limit."""
    query = _filtered(sa.select(sa.func.count()).select_from(workflow_changes), customer_ids, since, kinds)
    return int(conn.execute(query).scalar_one())
