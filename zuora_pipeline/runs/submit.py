"""Submitting runs to the Dagster instance from outside Dagster (the CLI's queued mode), and
waiting for them (``sync --wait``).

The runs are created exactly as `dagster job launch` creates them (we reuse its code path), so
they carry the remote origin of the ``zuora_pipeline`` code location and the daemon's queued run
coordinator launches them like any run from the UI or the schedule.

Dagster has no public call that creates a run with a code location's remote origin from outside
a daemon or the webserver: the calls used come from ``defs/dagster_private.py``, and
zuora_pipeline_tests/runs/test_submit.py pins their signatures, so an upgrade that changes
them fails there, not in an operator's `sync`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
from dagster import __version__ as dagster_version
from dagster_shared.cli import WorkspaceOpts

from zuora_pipeline.defs.dagster_private import (
    create_run,
    get_code_location_from_workspace,
    get_remote_job_from_remote_repo,
    get_remote_repository_from_code_location,
    get_workspace_from_cli_opts,
)
from zuora_pipeline.defs.keys import PARTITION_TAG
from zuora_pipeline.runs.inprocess import SyncOutcome, outcome_from_record

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
    base = dict(tags or {})
    return submit_tagged_runs(
        instance,
        job_name=job_name,
        run_config=run_config,
        tag_sets=[{**base, PARTITION_TAG: key} for key in partition_keys],
    )


def submit_tagged_runs(
    instance: dg.DagsterInstance,
    *,
    job_name: str,
    run_config: Mapping[str, Any],
    tag_sets: Sequence[Mapping[str, str]],
) -> list[str]:
    """Queue one run per tag set (a ``dagster/partition`` tag, or a partition range's two tags,
    as the schedule's run requests carry); returns the run ids."""
    with run_submitter(instance, job_name) as submit:
        return [submit(run_config, tags) for tags in tag_sets]


@contextmanager
def run_submitter(
    instance: dg.DagsterInstance, job_name: str
) -> Iterator[Callable[[Mapping[str, Any], Mapping[str, str]], str]]:
    """``submit(run_config, tags) -> run id`` for queued runs of ``job_name``, with the code
    location loaded once (loading it starts a code server: seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        workspace_file = Path(tmp) / "workspace.yaml"
        workspace_file.write_text(WORKSPACE_YAML)
        opts = WorkspaceOpts(workspace=[str(workspace_file)])
        # The code server is a subprocess writing to our terminal: only its errors (a location
        # that fails to load also raises here).
        with get_workspace_from_cli_opts(instance, dagster_version, opts, log_level="ERROR") as workspace:
            location = get_code_location_from_workspace(workspace, LOCATION_NAME)
            repo = get_remote_repository_from_code_location(location, None)
            job = get_remote_job_from_remote_repo(repo, job_name)

            def submit(run_config: Mapping[str, Any], tags: Mapping[str, str]) -> str:
                run = create_run(
                    instance=instance,
                    code_location=location,
                    remote_repo=repo,
                    remote_job=job,
                    run_config=dict(run_config),
                    tags=dict(tags),
                    op_selection=None,
                    run_id=None,
                )
                instance.submit_run(run.run_id, workspace)
                return run.run_id

            yield submit


FINISHED = frozenset({dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED})


def wait_for_runs(
    instance: dg.DagsterInstance,
    run_ids: Sequence[str],
    *,
    timeout_s: float,
    poll_s: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dg.DagsterRun]:
    """Each run as it finishes (success, failure or cancel), by polling the instance's run
    storage; stops when all have finished or ``timeout_s`` has passed (the rest are not yielded)."""
    pending = list(dict.fromkeys(run_ids))
    deadline = clock() + timeout_s
    while pending:
        for run in instance.get_runs(filters=dg.RunsFilter(run_ids=pending)):
            if run.status in FINISHED:
                pending.remove(run.run_id)
                yield run
        if not pending or clock() >= deadline:
            return
        sleep(min(poll_s, max(deadline - clock(), 0.0)))


def _first_failure(instance: dg.DagsterInstance, run_id: str) -> str | None:
    for event_type in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE):
        for entry in instance.all_logs(run_id, of_type=event_type):
            event = entry.dagster_event
            error = event.step_failure_data.error if event is not None and event.is_step_failure else None
            text = error.message if error is not None else (event.message if event is not None else entry.message)
            if text and text.strip():
                return text.strip().splitlines()[0]
    return None


def queued_run_outcome(instance: dg.DagsterInstance, engine: sa.Engine, run: dg.DagsterRun) -> SyncOutcome:
    """The outcome of a finished queued sync, as ``run_sync`` reports an in-process one."""
    record = instance.get_run_record_by_id(run.run_id)
    seconds = (record.end_time or 0.0) - (record.start_time or 0.0) if record is not None else 0.0
    success = run.status == dg.DagsterRunStatus.SUCCESS
    failure = None if success else (_first_failure(instance, run.run_id) or f"run {run.status.value.lower()}")
    return outcome_from_record(
        engine,
        run.tags.get(PARTITION_TAG, ""),
        run.run_id,
        success=success,
        seconds=max(seconds, 0.0),
        failure=failure,
    )
