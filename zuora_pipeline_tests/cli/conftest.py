"""The CLI on the session simulator: ``cli_env`` is the pipeline harness (real PostgreSQL) with
DAGSTER_HOME set to a fresh, empty instance directory, which the CLI's commands use (and give
their development dagster.yaml)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def cli_env(pipeline: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return pipeline
