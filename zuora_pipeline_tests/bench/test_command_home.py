"""The whole-command timing runs every command on one Dagster home, created before the first:
a user's CLI home outlives each command, so the timed commands do not create its storage."""

from __future__ import annotations

from pathlib import Path

from zuora_pipeline.bench.command import command_home
from zuora_pipeline.dagster_instance import DEV_INSTANCE_CONFIG


def test_the_commands_share_one_home_whose_storage_exists_before_the_first() -> None:
    home = Path(command_home())
    assert command_home() == str(home)
    assert (home / "dagster.yaml").read_text() == DEV_INSTANCE_CONFIG.read_text()
    assert (home / "history" / "runs.db").exists()
    assert (home / "history" / "runs" / "index.db").exists()
