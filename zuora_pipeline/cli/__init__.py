"""The ``zuora-pipeline`` command.

Every expected failure is one readable line on stderr and a non-zero exit, never a traceback:
the group below turns the project's typed errors into one line each. Dagster is imported only
inside the commands that need it, so ``zuora-pipeline --help`` stays fast.
"""

from __future__ import annotations

import importlib

import click

from zuora_pipeline.cli import console
from zuora_pipeline.cli.changes import changes_command
from zuora_pipeline.cli.compare import compare_command
from zuora_pipeline.cli.customers import customers_group, secret_key_command
from zuora_pipeline.cli.db import db_group
from zuora_pipeline.cli.demo import demo_command
from zuora_pipeline.cli.errors import ReadableErrorsGroup
from zuora_pipeline.cli.search import search_command
from zuora_pipeline.cli.sync import sync_command, tasks_group
from zuora_pipeline.cli.workflows import workflows_group
from zuora_pipeline.logs import LOG_FORMATS, TEXT
from zuora_pipeline.simulator.cli import simulator_group

# Commands whose modules import Dagster at import time: loaded only when invoked.
_LAZY_COMMANDS = {
    "bench": ("zuora_pipeline.bench.cli", "bench_command", "Run the performance scenarios against the simulator."),
}


class _MainGroup(ReadableErrorsGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _LAZY_COMMANDS and name not in self.commands:
            module, attr, _ = _LAZY_COMMANDS[name]
            try:
                self.add_command(getattr(importlib.import_module(module), attr), name)
            except ImportError:  # the bench is optional
                return None
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, cmd.get_short_help_str(60)) for name, cmd in self.commands.items() if not cmd.hidden]
        rows += [(name, short) for name, (_, _, short) in _LAZY_COMMANDS.items() if name not in self.commands]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))


@click.group(cls=_MainGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS, case_sensitive=False),
    default=TEXT,
    show_default=True,
    envvar=console.LOG_FORMAT_ENV,
    show_envvar=True,
    help="json: every log record and error on stderr is one JSON object per line "
    "(ts, level, logger, message, customer, run_id, step, event, error)",
)
@click.option(
    "--log-level",
    type=click.Choice(console.LOG_LEVELS, case_sensitive=False),
    default=console.DEFAULT_LOG_LEVEL,
    show_default=True,
    envvar=console.LOG_LEVEL_ENV,
    show_envvar=True,
    help="lowest level logged on stderr (with --log-format json, info shows every run event)",
)
def main(log_format: str, log_level: str) -> None:
    """Mirror Zuora Workflow definitions of many tenants into a SQL warehouse, with Dagster."""
    console.configure(log_format.lower(), log_level.lower())


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
