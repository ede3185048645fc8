"""``zuora-pipeline bench`` runs end to end on a tiny workload and prints its table."""

from __future__ import annotations

import json

from click.testing import CliRunner

from zuora_pipeline.cli import main


def test_bench_runs_tiny_scenarios_and_prints_the_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        main, ["bench", "full", "incremental", "--scale", "0.01", "--repeat", "1", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "| scenario | requests | wall s | command s | bound s |" in result.output
    rows = {r["name"]: r for r in json.loads(out.read_text())}
    assert set(rows) == {"full", "incremental"}
    assert rows["incremental"]["extra"]["export_requests"] == 0
    assert rows["full"]["baseline_s"] > 0 and rows["full"]["bound_s"] > 0
    # The whole command, timed from start to exit, beside the job's own timing.
    # On both homes (PostgreSQL answers here), judged on the production instance.
    for name in ("full", "incremental"):
        extra = rows[name]["extra"]
        assert rows[name]["command_s"] == extra["command_production_instance_s"]
        assert extra["command_cli_home_s"] > rows[name]["bound_s"] > 0
        assert rows[name]["command_s"] > rows[name]["bound_s"]
    assert rows["incremental"]["extra"]["command_export_requests"] == 0


def test_bench_search_finds_every_planted_task(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(main, ["bench", "search", "--scale", "0.01", "--repeat", "1", "--json", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(out.read_text())
    assert row["extra"]["planted"] > 0 and row["extra"]["hits"] == row["extra"]["planted"]
