"""The bench table (one row per scenario) and its JSON form."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from zuora_pipeline.bench.results import ScenarioResult

COLUMNS = (
    "scenario",
    "requests",
    "wall s",
    "command s",
    "bound s",
    "ratio",
    "peak RSS MB",
    "rows/s",
    "baseline s",
    "speed-up",
    "target",
    "met",
)


def _num(value: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if value is None else fmt.format(value)


def _requests(requests: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in requests.items()) or "-"


def row(result: ScenarioResult) -> list[str]:
    baseline = _num(result.baseline_s, "{:.1f}")
    if result.baseline_s is not None and result.baseline_estimated:
        baseline = "~" + baseline
    met = {True: "yes", False: "NO", None: "-"}[result.met]
    return [
        result.name,
        _requests(result.requests),
        _num(result.wall_s),
        _num(result.command_s),
        _num(result.bound_s),
        _num(result.ratio),
        _num(result.peak_rss_mb, "{:.0f}"),
        _num(result.rows_per_s, "{:,.0f}"),
        baseline,
        _num(result.speedup, "{:.1f}x"),
        result.target,
        met,
    ]


def table(results: Sequence[ScenarioResult]) -> str:
    """A Markdown table (it also reads well in a terminal), then each scenario's details."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row(r)) + " |" for r in results]
    lines.append("")
    lines.append(
        "ratio = API phase / bound (incremental: / list-only bound; fleet: wall / (bound x "
        "ceil(customers / runs at once))); wall s = the job in process; command s = the whole "
        "`zuora-pipeline sync --in-process` subprocess, start to exit (same C, same bound), on the "
        "production instance (Dagster's storage in PostgreSQL) when a PostgreSQL server answers, "
        "else on the CLI's own SQLite home (both in each row's details); "
        "~ = baseline extrapolated from a measured smaller sequential run."
    )
    for r in results:
        details = ", ".join(f"{k}={_fmt(v)}" for k, v in r.extra.items())
        api = f"API phase {r.api_s:.2f} s; " if r.api_s is not None else ""
        lines.append(f"- {r.name}: {r.workload}; {r.repetitions} run(s), median; {api}{details}")
        lines += [f"    note: {n}" for n in r.notes]
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def write_json(results: Sequence[ScenarioResult], path: str | Path) -> None:
    Path(path).write_text(json.dumps([r.to_json() for r in results], indent=2, default=str) + "\n")
