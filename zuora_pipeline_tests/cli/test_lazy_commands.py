"""``zuora-pipeline --help`` imports no command module: the main group lists the commands from
its table and loads a command's module on first use."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from zuora_pipeline.cli import COMMANDS, main

HEAVY = ("dagster", "sqlalchemy", "httpx", "pydantic", "cryptography", "rich", "alembic")

# What `zuora-pipeline --help` does, in a fresh interpreter: which heavy packages it imported.
PROBE = f"""
import sys
from zuora_pipeline.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_help_imports_no_heavy_dependency() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    *_help, imported = result.stdout.splitlines()
    assert imported == "", f"`zuora-pipeline --help` imported {imported}"
    assert all(name in result.stdout for name in COMMANDS)


def test_the_table_holds_each_commands_own_short_help() -> None:
    ctx = click.Context(main)
    for name, lazy in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
        assert lazy.short_help == command.get_short_help_str(limit=1000), name
    assert set(main.list_commands(ctx)) == set(COMMANDS)


def test_a_command_loaded_on_first_use_runs() -> None:
    result = CliRunner().invoke(main, ["secret-key"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip()) == 44  # a Fernet key
