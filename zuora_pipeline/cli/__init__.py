"""The ``zuora-pipeline`` command (DESIGN.md §5).

Every expected failure is one readable line on stderr and a non-zero exit, never a traceback:
the group below turns the project's typed errors into click errors.
"""

from __future__ import annotations

import click

from zuora_pipeline.cli.changes import changes_command
from zuora_pipeline.cli.compare import compare_command
from zuora_pipeline.cli.customers import customers_group, secret_key_command
from zuora_pipeline.cli.db import db_group
from zuora_pipeline.cli.demo import demo_command
from zuora_pipeline.cli.errors import ReadableErrorsGroup
from zuora_pipeline.cli.search import search_command
from zuora_pipeline.cli.sync import sync_command, tasks_group
from zuora_pipeline.cli.workflows import workflows_group
from zuora_pipeline.simulator.cli import simulator_group


@click.group(cls=ReadableErrorsGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Mirror Zuora Workflow definitions of many tenants into a SQL warehouse, with Dagster."""


main.add_command(db_group)
main.add_command(secret_key_command)
main.add_command(customers_group)
main.add_command(sync_command)
main.add_command(tasks_group)
main.add_command(workflows_group)
main.add_command(changes_command)
main.add_command(compare_command)
main.add_command(search_command)
main.add_command(simulator_group)
main.add_command(demo_command)


def _add_bench() -> None:
    try:
        from zuora_pipeline.bench.cli import bench_command
    except ImportError:  # the bench arrives with its own module
        return
    main.add_command(bench_command)


_add_bench()
