"""``zuora-pipeline bench browse`` runs end to end on a tiny workload: every page type is timed
from the app's own Server-Timing, and the customers page's plan reads no task row."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from zuora_pipeline.cli import main

PAGES = (
    "customers",
    "workflows",
    "workflows-filtered",
    "workflow",
    "export",
    "export-download",
    "diagram",
    "workflow-60-tasks",
    "diagram-60-tasks",
    "diagram-60-tasks-cached",
    "history",
    "diff",
    "diagram-changes",
    "search",
    "changes",
    "compare",
    "compare-pair",
)


def test_bench_browse_times_every_page_type(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(main, ["bench", "browse", "--scale", "0.01", "--repeat", "1", "--json", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(out.read_text())
    extra = row["extra"]
    for page in PAGES:
        assert extra[f"{page} ms"].startswith("median "), page
    assert extra["customers_page_tables"] == ["workflow_revisions", "workflows"]
    assert 0 < extra["customers_page_rows_read"] <= 2 * 10 * 20  # a workflow row and its revision each
    assert extra["tasks"] > extra["customers_page_rows_read"]
    assert any("ix_workflows_customer_id" in scan for scan in extra["workflows_page_scans"])
    assert extra["compare_differing"] > 0 and row["met"] is not None
