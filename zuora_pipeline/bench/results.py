"""One row of the bench table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ScenarioResult:
    name: str
    workload: str
    target: str
    wall_s: float  # median of the repetitions (the in-process job for the sync scenarios)
    command_s: float | None = None  # the whole `zuora-pipeline sync --in-process` subprocess, median
    bound_s: float | None = None  # request lower bound (bench/bound.py) for what this scenario must request
    api_s: float | None = None  # the fetch step alone (list + exports), median
    requests: dict[str, int] = field(default_factory=dict)
    peak_rss_mb: float | None = None
    rows_per_s: float | None = None
    baseline_s: float | None = None  # sequential, no change detection (the Laravel system)
    baseline_estimated: bool = False  # extrapolated from a measured smaller run
    met: bool | None = None
    repetitions: int = 1
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """API phase over the bound when the scenario has one, else the whole job over it."""
        if not self.bound_s:
            return None
        measured = self.api_s if self.api_s is not None else self.wall_s
        return measured / self.bound_s

    @property
    def speedup(self) -> float | None:
        if not self.baseline_s or not self.wall_s:
            return None
        return self.baseline_s / self.wall_s

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["speedup"] = self.speedup
        return data
