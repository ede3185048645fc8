"""What each asset's materialization says about the customer's sync: counts of the asset's own
rows under names that mean one thing (the UI plots the numbers over time), what it cost, and a
table of the workflows that changed."""

from __future__ import annotations

from dataclasses import replace

from zuora_pipeline.logic.stats import Stats
from zuora_pipeline.sync.apply import WorkflowsResult
from zuora_pipeline.sync.extract import TasksResult
from zuora_pipeline.sync.fetch import FetchResult
from zuora_pipeline.sync.history import HistoryResult
from zuora_pipeline.sync.results import (
    WORKFLOW_EXPORTS,
    WORKFLOW_PAGES,
    WORKFLOW_TASKS,
    WORKFLOWS,
    Markdown,
    Materialization,
)

MAX_CHANGE_ROWS = 50  # the UI renders the table inline; the full log is `zuora-pipeline changes`


def _calls(result: FetchResult, *kinds: str) -> int:
    return int(sum(result.api.get(f"requests_{kind}", 0) for kind in kinds))


def _retries(result: FetchResult) -> int:
    return int(result.api.get("retries_total", 0))


def fetch_stats(result: FetchResult) -> Stats:
    """The export counts of a fetch, and every request it made."""
    return Stats(
        created=result.exports_created,
        updated=result.exports_updated,
        unchanged=result.unchanged_skipped,
        deleted=0,  # the last good export of a vanished workflow is kept
        total=result.exportable,
        errors=result.errors,
        api_calls=int(result.api.get("requests_total", 0)),
        retries=_retries(result),
    )


def pages(customer: str, result: FetchResult) -> Materialization:
    # The listing is replaced as a whole on every sync: it is counted in pages and workflows, not
    # in created/updated rows.
    return Materialization(
        WORKFLOW_PAGES,
        {
            "customer": customer,
            "pages": result.pages,
            "workflows_listed": result.listed,
            "distinct_ids": result.distinct_ids,
            # The token is fetched for the listing: it is the first thing the fetch does.
            "api_calls": _calls(result, "list", "token"),
            "retries": _retries(result),
            "duration_s": round(result.duration_s, 3),
            "dagster/partition_row_count": result.pages,
        },
    )


def exports(customer: str, result: FetchResult) -> Materialization:
    stats = fetch_stats(result)
    return Materialization(
        WORKFLOW_EXPORTS,
        {
            "customer": customer,
            **stats.as_dict(),
            "exports_requested": result.exports_requested,
            # Failed transiently, then downloaded on a further pass of the same sync.
            "exports_refetched": result.exports_refetched,
            "without_active_version": result.without_active_version,
            "coverage": round(result.coverage, 6),
            "api_calls": _calls(result, "export", "get"),
            "bytes_received": int(result.api.get("bytes_received", 0)),
            "max_in_flight": int(result.api.get("max_in_flight", 0)),
            "duration_s": round(result.duration_s, 3),
            "error_samples": list(result.error_samples),
        },
    )


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def changes_markdown(result: HistoryResult) -> Markdown:
    if not result.changes:
        return Markdown("No workflow changed in this sync.")
    lines = ["| workflow | change | summary |", "|---|---|---|"]
    for change in result.changes[:MAX_CHANGE_ROWS]:
        lines.append(
            f"| {_cell(change.workflow_name)} ({change.workflow_id}) | {change.change} | {_cell(change.summary)} |"
        )
    if len(result.changes) > MAX_CHANGE_ROWS:
        lines.append(
            f"\n... and {len(result.changes) - MAX_CHANGE_ROWS} more: `zuora-pipeline changes --customer NAME`"
        )
    return Markdown("\n".join(lines))


def workflow_stats(result: WorkflowsResult, fetched: FetchResult | None) -> Stats:
    """The sync's stats: its workflows, and the export errors and requests of its fetch (none when
    the workflows were applied from what an earlier run fetched)."""
    cost = fetch_stats(fetched) if fetched is not None else Stats()
    return replace(result.counts, errors=cost.errors, api_calls=cost.api_calls, retries=cost.retries)


def workflows(customer: str, result: WorkflowsResult, stats: Stats) -> Materialization:
    return Materialization(
        WORKFLOWS,
        {
            "customer": customer,
            **stats.as_dict(),
            "exports_applied": result.exports_applied,
            "deletions_withheld": len(result.withheld_ids),
            "changes": changes_markdown(result.history),
            **result.history.counts(),
            "duration_s": round(result.duration_s, 3),
            "dagster/partition_row_count": result.counts.total,
        },
    )


def tasks(customer: str, result: TasksResult) -> Materialization:
    # Tasks come from the stored exports: never an API call.
    stats = result.counts()
    return Materialization(
        WORKFLOW_TASKS,
        {
            "customer": customer,
            **stats.as_dict(),
            "workflows_extracted": result.workflows,
            "upserted": result.upserted,
            "duration_s": round(result.duration_s, 3),
            "dagster/partition_row_count": result.total,
        },
    )
