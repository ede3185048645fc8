"""This sync's changes as ``zuora/workflows`` materialization metadata: a Markdown table for the
asset page and counts for the Plots tab."""

from __future__ import annotations

import dagster as dg

from zuora_pipeline.sync.history import HistoryResult

MAX_ROWS = 50  # the UI renders the table inline; the full log is `zuora-pipeline changes`


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def changes_markdown(result: HistoryResult) -> str:
    if not result.changes:
        return "No workflow changed in this sync."
    lines = ["| workflow | change | summary |", "|---|---|---|"]
    for change in result.changes[:MAX_ROWS]:
        lines.append(
            f"| {_cell(change.workflow_name)} ({change.workflow_id}) | {change.change} | {_cell(change.summary)} |"
        )
    if len(result.changes) > MAX_ROWS:
        lines.append(f"\n... and {len(result.changes) - MAX_ROWS} more: `zuora-pipeline changes --customer NAME`")
    return "\n".join(lines)


def history_metadata(result: HistoryResult) -> dict[str, object]:
    return {"changes": dg.MetadataValue.md(changes_markdown(result)), **result.counts()}
