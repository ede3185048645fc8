"""Every command, given bad input, says so in one line on stderr and exits non-zero: the real
``zuora-pipeline`` console script in a subprocess, as text and as a JSON log record.

The commands are enumerated from the CLI itself (``COMMANDS`` and their subcommands): a new
command without a case here fails ``test_every_command_has_a_bad_input_case``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from zuora_pipeline.cli import COMMANDS, main
from zuora_pipeline.crypto import new_key
from zuora_pipeline.warehouse import migrate
from zuora_pipeline.warehouse.engine import create_warehouse_engine

SCRIPT = shutil.which("zuora-pipeline", path=str(Path(sys.executable).parent)) or "zuora-pipeline"
BUSY = "{busy_port}"  # replaced by the port a test socket listens on

# Leaf command -> (arguments, extra environment, what the line must say). The warehouse is an
# empty SQLite one with the current schema: no customer exists.
BAD_INPUT: dict[str, tuple[list[str], dict[str, str], str]] = {
    "bench": (["bench", "no-such-scenario"], {}, "'no-such-scenario' is not one of"),
    "browse": (["browse", "--port", BUSY], {}, f"cannot listen on 127.0.0.1:{BUSY}"),
    "changes": (["changes", "--since", "yesterday"], {}, "use 30m, 12h, 7d, 2w"),
    "compare": (["compare", "acme", "hooli"], {}, "no customer named 'acme'"),
    "customers add": (
        ["customers", "add", "acme", "--base-url", "http://127.0.0.1:9", "--client-id", "id"],
        {},
        "add 127.0.0.1:9 to ZUORA_PIPELINE_ALLOWED_HOSTS",
    ),
    "customers list": (["customers", "list"], {"ZUORA_PIPELINE_DATABASE_URL": "garbage"}, "not a database URL"),
    "customers pause": (["customers", "pause", "nobody"], {}, "no customer named 'nobody'"),
    "customers remove": (["customers", "remove", "nobody", "--yes"], {}, "no customer named 'nobody'"),
    "customers resume": (["customers", "resume", "nobody"], {}, "no customer named 'nobody'"),
    "customers update": (
        ["customers", "update", "acme", "--client-secret-env", "VAR", "--secret-from-stdin"],
        {},
        "not both",
    ),
    "db upgrade": (["db", "upgrade"], {"ZUORA_PIPELINE_DATABASE_URL": "mysql://user:pw@db/zuora"}, "not supported"),
    "demo": (["demo", "--port", BUSY], {}, f"port {BUSY} is already in use"),
    "search": (["search", "hook", "--action-type", "NoSuchType"], {}, "is not an action type"),
    "secret-key rotate": (["secret-key", "rotate"], {"ZUORA_PIPELINE_SECRET_KEY": "garbage"}, "not a valid Fernet key"),
    "simulator serve": (["simulator", "serve", "--port", BUSY], {}, f"port {BUSY} on 127.0.0.1 is already in use"),
    "sync": (["sync", "--customer", "acme", "--timeout", "5"], {}, "add --wait"),
    "tasks reextract": (["tasks", "reextract", "--all", "--workflow-id", "1085"], {}, "drop --all"),
    "workflows diff": (["workflows", "diff", "acme", "1039", "--from", "one"], {}, "'one' is not a valid integer"),
    "workflows export": (["workflows", "export", "nobody", "-o", "out"], {}, "no customer named 'nobody'"),
    "workflows graph": (["workflows", "graph", "nobody", "1039"], {}, "no customer named 'nobody'"),
    "workflows history": (["workflows", "history", "nobody", "1039"], {}, "no customer named 'nobody'"),
}


def _leaves(command: click.Command, path: str) -> Iterator[str]:
    if isinstance(command, click.Group):
        for name in command.list_commands(click.Context(command)):
            yield from _leaves(command.get_command(click.Context(command), name), f"{path} {name}".strip())
    else:
        yield path


def test_every_command_has_a_bad_input_case() -> None:
    ctx = click.Context(main)
    leaves = {leaf for name in COMMANDS for leaf in _leaves(main.get_command(ctx, name), name)}
    assert leaves == set(BAD_INPUT)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty warehouse with the current schema, where the CLI looks by default."""
    path = tmp_path_factory.mktemp("cli_errors") / "data"
    path.mkdir()
    engine = create_warehouse_engine(f"sqlite:///{path / 'warehouse.sqlite'}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def run_cli(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("ZUORA_PIPELINE_", "DAGSTER_HOME"))}
    environ |= {"ZUORA_PIPELINE_DATA_DIR": str(data_dir), "ZUORA_PIPELINE_SECRET_KEY": new_key(), **env}
    return subprocess.run(
        [SCRIPT, *args], capture_output=True, text=True, env=environ, stdin=subprocess.DEVNULL, timeout=120, check=False
    )


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("command", sorted(BAD_INPUT))
def test_bad_input_is_one_line_and_a_non_zero_exit(
    command: str, log_format: str, data_dir: Path, busy_port: int, tmp_path: Path
) -> None:
    args, env, says = (
        [a.replace(BUSY, str(busy_port)) for a in BAD_INPUT[command][0]],
        BAD_INPUT[command][1],
        BAD_INPUT[command][2].replace(BUSY, str(busy_port)),
    )
    if command == "demo":
        args += ["--data-dir", str(tmp_path / "demo")]

    result = run_cli(["--log-format", log_format, *args], data_dir, **env)

    assert result.returncode != 0, result.stdout
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    if log_format == "json":
        record = json.loads(line)
        assert record["level"] == "ERROR" and says in record["message"], record
    else:
        assert line.startswith("Error: ") and says in line, line


def test_an_unknown_command_or_root_option_is_one_line(data_dir: Path) -> None:
    unknown = run_cli(["no-such-command"], data_dir)
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines() == ["Error: No such command 'no-such-command'; see `zuora-pipeline --help`"]
    as_json = run_cli(["--log-format", "json", "no-such-command"], data_dir)
    assert json.loads(as_json.stderr)["message"].startswith("No such command")
    bad_option = run_cli(["--log-format", "xml", "customers", "list"], data_dir)
    assert bad_option.returncode == 2
    (line,) = bad_option.stderr.splitlines()
    assert line.startswith("Error: Invalid value for '--log-format'") and "'xml' is not one of" in line


def test_debug_shows_the_traceback(data_dir: Path) -> None:
    quiet = run_cli(["customers", "list"], data_dir, ZUORA_PIPELINE_DATABASE_URL="garbage")
    assert "Traceback" not in quiet.stderr and len(quiet.stderr.splitlines()) == 1
    for args, env in ((["--debug", "customers", "list"], {}), (["customers", "list"], {"ZUORA_PIPELINE_DEBUG": "1"})):
        loud = run_cli(args, data_dir, ZUORA_PIPELINE_DATABASE_URL="garbage", **env)
        assert loud.returncode == 1
        assert "Traceback (most recent call last)" in loud.stderr and "DatabaseUrlError" in loud.stderr


def test_a_data_directory_that_cannot_be_made_is_one_line(data_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    result = run_cli(["customers", "list"], data_dir, ZUORA_PIPELINE_DATA_DIR=str(blocker))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"Error: {blocker}: file exists"]
