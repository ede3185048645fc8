"""A finished sync as the CLI, the demo and the bench report it: its customer, result, run, time
and the counts of its sync record. No Dagster: the CLI's queued ``sync`` reads outcomes from the
warehouse alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.logic.stats import Stats
from zuora_pipeline.warehouse import customers, sync_runs


@dataclass
class SyncOutcome:
    customer: str
    success: bool
    run_id: str | None
    seconds: float | None  # None when its run never started
    stats: Stats | None = None  # None when its sync never ran
    error: str | None = None


def outcome_from_record(
    engine: sa.Engine, customer: str, run_id: str, *, success: bool, seconds: float, failure: str | None
) -> SyncOutcome:
    """A finished sync's outcome: the stats of its sync record, and its error (the record's, else
    ``failure``, the first line of the run's first step failure)."""
    outcome = SyncOutcome(customer, success, run_id, seconds)
    with engine.connect() as conn:
        row = customers.find(conn, customer)
        record: dict[str, Any] = (sync_runs.for_run(conn, row.id, run_id) or {}) if row else {}
    outcome.stats = Stats.from_mapping(record)
    if not success:
        outcome.error = record.get("error_message") or failure or "run failed"
    return outcome
