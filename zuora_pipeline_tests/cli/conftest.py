"""The CLI on the session simulator: ``cli_env`` is the pipeline harness (real PostgreSQL) with
DAGSTER_HOME set to a fresh instance directory, which the CLI's commands use. Its dagster.yaml
turns telemetry off, as an operator's instance would (Dagster prints a banner on the first use of
an instance with telemetry on)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def cli_env(pipeline: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return pipeline
