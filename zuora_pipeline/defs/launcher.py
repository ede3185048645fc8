"""Submitting runs to the Dagster instance from outside Dagster (the CLI's queued mode).

The runs are created exactly as `dagster job launch` creates them (we reuse its code path), so
they carry the remote origin of the ``zuora_pipeline`` code location and the daemon's queued run
coordinator launches them like any run from the UI or the schedule.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import __version__ as dagster_version
from dagster._cli.job import _create_run  # the body of `dagster job launch`
from dagster._cli.workspace.cli_target import (
    get_code_location_from_workspace,
    get_remote_job_from_remote_repo,
    get_remote_repository_from_code_location,
    get_workspace_from_cli_opts,
)
from dagster_shared.cli import WorkspaceOpts

LOCATION_NAME = "zuora_pipeline"
WORKSPACE_YAML = f"""load_from:
  - python_module:
      module_name: zuora_pipeline.definitions
      location_name: {LOCATION_NAME}
"""


def submit_runs(
    instance: dg.DagsterInstance,
    *,
    job_name: str,
    partition_keys: Sequence[str],
    run_config: Mapping[str, Any],
    tags: Mapping[str, str] | None = None,
) -> list[str]:
    """Queue one run per partition key; returns the run ids."""
    with tempfile.TemporaryDirectory() as tmp:
        workspace_file = Path(tmp) / "workspace.yaml"
        workspace_file.write_text(WORKSPACE_YAML)
        opts = WorkspaceOpts(workspace=[str(workspace_file)])
        with get_workspace_from_cli_opts(instance, dagster_version, opts) as workspace:
            location = get_code_location_from_workspace(workspace, LOCATION_NAME)
            repo = get_remote_repository_from_code_location(location, None)
            job = get_remote_job_from_remote_repo(repo, job_name)
            run_ids = []
            for key in partition_keys:
                run = _create_run(
                    instance=instance,
                    code_location=location,
                    remote_repo=repo,
                    remote_job=job,
                    run_config=dict(run_config),
                    tags={**(tags or {}), "dagster/partition": key},
                    op_selection=None,
                    run_id=None,
                )
                instance.submit_run(run.run_id, workspace)
                run_ids.append(run.run_id)
            return run_ids
