"""The only place the project imports Dagster internals (``dagster._...``), each for want of a
public API:

- Run creation with a code location's remote origin from outside a daemon or the webserver (the
  CLI's queued ``sync``, ``runs/submit.py``): the body of ``dagster job launch`` and the
  workspace helpers it uses.
- ``AssetCheckEvaluationTargetMaterializationData`` (``defs/partition_events.py``): a check
  evaluation of one customer inside a run of several counts in the UI's per-partition check
  status only when it names the materialization it evaluated, and that record is not exported.

``zuora_pipeline_tests/runs/test_submit.py`` and ``test_partition_events.py`` pin what is used
of each, so a Dagster upgrade that moves or changes one fails there, not in an operator's run.
"""

from __future__ import annotations

import importlib
from typing import Any

from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

# Loaded on first use: importing ``dagster._cli`` costs ~0.11 s, and every run worker loads this
# module with the definitions while only the CLI's queued ``sync`` creates runs.
_CLI_TARGET = "dagster._cli.workspace.cli_target"
_RUN_CREATION = {
    "create_run": ("dagster._cli.job", "_create_run"),
    "get_code_location_from_workspace": (_CLI_TARGET, "get_code_location_from_workspace"),
    "get_remote_job_from_remote_repo": (_CLI_TARGET, "get_remote_job_from_remote_repo"),
    "get_remote_repository_from_code_location": (_CLI_TARGET, "get_remote_repository_from_code_location"),
    "get_workspace_from_cli_opts": (_CLI_TARGET, "get_workspace_from_cli_opts"),
}


def __getattr__(name: str) -> Any:
    if name not in _RUN_CREATION:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _RUN_CREATION[name]
    return getattr(importlib.import_module(module), attribute)


# The run-creation names are served by __getattr__ above.
__all__ = ["AssetCheckEvaluationTargetMaterializationData"]
