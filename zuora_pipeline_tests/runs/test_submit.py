"""The private Dagster functions the queued launcher relies on (runs/submit.py) keep the
signatures it calls them with: an upgrade that changes them fails here, loudly."""

from __future__ import annotations

import inspect
import subprocess
import sys

from zuora_pipeline.runs import submit as launcher


def test_create_run_takes_the_keywords_the_launcher_passes() -> None:
    parameters = set(inspect.signature(launcher.create_run).parameters)
    assert {
        "instance",
        "code_location",
        "remote_repo",
        "remote_job",
        "run_config",
        "tags",
        "op_selection",
        "run_id",
    } <= parameters


def test_workspace_helpers_take_the_arguments_the_launcher_passes() -> None:
    assert len(inspect.signature(launcher.get_workspace_from_cli_opts).parameters) >= 3
    assert "log_level" in inspect.signature(launcher.get_workspace_from_cli_opts).parameters
    for helper in (
        launcher.get_code_location_from_workspace,
        launcher.get_remote_repository_from_code_location,
        launcher.get_remote_job_from_remote_repo,
    ):
        assert len(inspect.signature(helper).parameters) == 2, helper.__name__


def test_loading_the_definitions_does_not_import_the_run_creation_internals() -> None:
    # Every run worker loads the definitions; only the CLI's queued `sync` creates runs.
    code = "import sys, zuora_pipeline.definitions; print('dagster._cli.job' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
