"""The ``zuora-pipeline`` command.

Every error is one readable line on stderr and a non-zero exit, never a traceback: the group
below turns whatever a command raises into one line (``cli/errors.py``); ``--debug`` shows the
traceback of an unexpected one.

Each command's module is imported only when that command runs (or its own ``--help`` is
shown): the table below lists every command with its one-line help, so ``zuora-pipeline
--help`` imports none of them, nor what they use (Dagster, SQLAlchemy, httpx, pydantic,
cryptography, rich), and a command imports only what it uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, NamedTuple

import click

from zuora_pipeline.cli import console, process
from zuora_pipeline.cli.errors import DEBUG_ENV, Problems, ReadableErrorsGroup, usage_problem
from zuora_pipeline.extras import missing_extra
from zuora_pipeline.logs import LOG_FORMATS, TEXT


class LazyCommand(NamedTuple):
    module: str
    attribute: str
    short_help: str  # the command's own short help (a test keeps the two equal)
    extra: str | None = None  # the optional extra its module needs (setup.py), if any


COMMANDS = {
    "bench": LazyCommand(
        "zuora_pipeline.bench.cli",
        "bench_command",
        "Measure the sync against its request lower bound on a local simulator.",
        extra="bench",
    ),
    "browse": LazyCommand(
        "zuora_pipeline.cli.browse",
        "browse_command",
        "Browse the warehouse in a web page (read-only): customers, workflows, tasks, exports, diagrams, "
        "history, diffs, tenant compare, search, changes.",
    ),
    "changes": LazyCommand(
        "zuora_pipeline.cli.changes",
        "changes_command",
        "Workflows created, updated, deleted or restored, newest first, with the run that saw it.",
    ),
    "compare": LazyCommand(
        "zuora_pipeline.cli.compare",
        "compare_command",
        "Compare the live workflows of two customers: only in A, only in B, identical, differing "
        "(with their task-level differences, A -> B).",
    ),
    "customers": LazyCommand(
        "zuora_pipeline.cli.customers", "customers_group", "Zuora tenants to mirror (one Dagster partition each)."
    ),
    "db": LazyCommand("zuora_pipeline.cli.db", "db_group", "Warehouse schema."),
    "demo": LazyCommand(
        "zuora_pipeline.cli.demo",
        "demo_command",
        "Start a simulated Zuora, register three customers and sync them all.",
    ),
    "search": LazyCommand(
        "zuora_pipeline.cli.search",
        "search_command",
        "Tasks whose name or parameters, and workflows whose name, contain TEXT (case-insensitive): "
        "callout URLs, e-mail addresses, ZOQL queries, Liquid templates.",
    ),
    "secret-key": LazyCommand(
        "zuora_pipeline.cli.secret_key",
        "secret_key_group",
        "Print a new Fernet key for ZUORA_PIPELINE_SECRET_KEY (`secret-key rotate` re-encrypts with the newest).",
    ),
    "simulator": LazyCommand(
        "zuora_pipeline.simulator.cli", "simulator_group", "The Zuora-compatible HTTP simulator.", extra="simulator"
    ),
    "sync": LazyCommand(
        "zuora_pipeline.cli.sync", "sync_command", "Sync customers' workflows (queued Dagster runs, or --in-process)."
    ),
    "tasks": LazyCommand("zuora_pipeline.cli.sync", "tasks_group", "Tasks extracted from the stored exports."),
    "workflows": LazyCommand(
        "zuora_pipeline.cli.workflows",
        "workflows_group",
        "One workflow's history, diffs and diagram; a customer's workflows as files.",
    ),
}


class _MainGroup(ReadableErrorsGroup):
    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:  # the group's own options: one line too
            raise usage_problem(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        # Before the command is looked up: an unknown command is reported in the chosen format.
        console.configure(ctx.params["log_format"].lower(), ctx.params["log_level"].lower())
        return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS and name not in self.commands:
            lazy = COMMANDS[name]
            with process.startup_imports():
                try:
                    module = importlib.import_module(lazy.module)
                except ModuleNotFoundError as exc:
                    missing = missing_extra(exc, lazy.extra) if lazy.extra else None
                    if missing is None:
                        raise
                    raise Problems([missing]) from None
            self.add_command(getattr(module, lazy.attribute), name)
        return super().get_command(ctx, name)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """As the console script (no ``args``: the command line is ``sys.argv``), the process ends
        as soon as the command's output is flushed (``process.exit_now``). Called with ``args``
        (tests, other Python code) it behaves as any click group."""
        if args is not None or not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            super().main(None, prog_name, complete_var, standalone_mode, **extra)
        except SystemExit as exc:  # standalone mode always ends here
            process.exit_now(exc.code)
        process.exit_now(0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        # Shortened as click shortens a loaded command's help (click.utils' helper is deprecated).
        rows = [
            (name, click.Command(name, help=lazy.short_help).get_short_help_str(limit))
            for name, lazy in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


@click.group("zuora-pipeline", cls=_MainGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option(
    "--debug",
    is_flag=True,
    envvar=DEBUG_ENV,
    show_envvar=True,
    help="show the traceback of an unexpected error instead of its one line",
)
def main(log_format: str, log_level: str, debug: bool) -> None:
    """Mirror Zuora Workflow definitions of many tenants into a SQL warehouse, with Dagster."""
    # The logging is set up by the group before the command is looked up (_MainGroup.invoke).
