"""The top-level handler: an error nobody expected is one line naming its type (with how to see
the traceback), an audit command's is exit code 2, and ``--debug`` lets it through; known causes
(files, ports) get their own line."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zuora_pipeline.cli import context, main
from zuora_pipeline.cli.errors import describe


@pytest.fixture
def broken_warehouse(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(**_kwargs: Any) -> Any:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(context, "warehouse", boom)


def test_an_unexpected_error_is_one_line_with_its_type(broken_warehouse: None) -> None:
    result = CliRunner().invoke(main, ["customers", "list"])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: RuntimeError: boom (run with --debug (or ZUORA_PIPELINE_DEBUG=1) for the traceback)"
    ]


def test_an_unexpected_error_is_a_json_record_in_json_mode(broken_warehouse: None) -> None:
    result = CliRunner().invoke(main, ["--log-format", "json", "customers", "list"])

    (line,) = result.stderr.splitlines()
    record = json.loads(line)
    assert record["level"] == "ERROR" and record["message"].startswith("RuntimeError: boom")


def test_an_audit_commands_unexpected_error_exits_2_not_1(broken_warehouse: None) -> None:
    """1 means "they differ" to a script."""
    result = CliRunner().invoke(main, ["compare", "acme", "hooli"])

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: RuntimeError: boom") and len(result.stderr.splitlines()) == 1


def test_debug_lets_the_error_through(broken_warehouse: None, monkeypatch: pytest.MonkeyPatch) -> None:
    flagged = CliRunner().invoke(main, ["--debug", "compare", "acme", "hooli"])
    assert isinstance(flagged.exception, RuntimeError)
    monkeypatch.setenv("ZUORA_PIPELINE_DEBUG", "1")
    from_env = CliRunner().invoke(main, ["customers", "list"])
    assert isinstance(from_env.exception, RuntimeError)


def test_usage_errors_are_one_line_naming_the_help() -> None:
    result = CliRunner().invoke(main, ["customers", "add", "acme"])

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: Missing option '--base-url'; see `zuora-pipeline customers add --help`"
    ]


def test_a_group_without_its_command_shows_its_help() -> None:
    result = CliRunner().invoke(main, ["customers"])
    assert result.exit_code == 2 and "Commands:" in result.stderr


def test_files_and_ports(tmp_path: Path) -> None:
    missing_dir = tmp_path / "no" / "such" / "dir" / "x.png"
    assert describe(FileNotFoundError(errno.ENOENT, "No such file or directory", str(missing_dir))) == (
        f"{missing_dir}: directory {missing_dir.parent} does not exist"
    )
    missing_file = tmp_path / "x.png"
    assert describe(FileNotFoundError(errno.ENOENT, "No such file or directory", str(missing_file))) == (
        f"{missing_file}: no such file or directory"
    )
    assert describe(PermissionError(errno.EACCES, "Permission denied", "/etc/x")) == "/etc/x: permission denied"
    assert describe(OSError(errno.EROFS, "Read-only file system", "/mnt/x")) == "/mnt/x: read-only file system"
    assert "already in use" in describe(OSError(errno.EADDRINUSE, "Address already in use"))


def test_a_real_unwritable_file_is_described(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.svg"
    with pytest.raises(OSError) as caught:
        target.open("wb")
    assert describe(caught.value) == f"{target}: directory {target.parent} does not exist"
