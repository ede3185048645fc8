"""The CLI process around a command: start-up imports without garbage collection, and an exit
that skips the interpreter's teardown but keeps the output and the exit code."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from zuora_pipeline.cli import process


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, check=False)


def test_startup_imports_run_no_collection_and_freeze_what_they_loaded() -> None:
    collections: list[str] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(phase)

    frozen_before = gc.get_freeze_count()
    gc.callbacks.append(count)
    try:
        with process.startup_imports():
            kept = [[n] for n in range(100_000)]  # far past the collector's thresholds
        during = len(collections)
    finally:
        gc.callbacks.remove(count)
    assert during == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(kept)


# A command's module, loaded on first use in a fresh interpreter: collections during the import.
LAZY_IMPORT = """
import gc, sys
import click
from zuora_pipeline.cli import main
assert "zuora_pipeline.cli.customers" not in sys.modules
before = [s["collections"] for s in gc.get_stats()]
main.get_command(click.Context(main), "customers")
after = [s["collections"] for s in gc.get_stats()]
print(before == after, gc.isenabled(), gc.get_freeze_count() > 0)
"""


def test_a_commands_module_loads_without_garbage_collection() -> None:
    result = _python(LAZY_IMPORT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True"]


# The console script's way in: main() with no arguments reads sys.argv. An atexit hook shows
# whether the interpreter's teardown ran.
CONSOLE = "import atexit; atexit.register(print, 'teardown'); from zuora_pipeline.cli import main; main()"


def test_the_console_script_exits_without_teardown_keeping_its_output() -> None:
    result = _python(CONSOLE, "secret-key")
    assert result.returncode == 0, result.stderr
    assert "teardown" not in result.stdout
    assert len(result.stdout.strip()) == 44  # the Fernet key, flushed before the exit

    helped = _python(CONSOLE, "--help")
    assert helped.returncode == 0
    assert "teardown" not in helped.stdout
    assert helped.stdout.rstrip().splitlines()[-1].split()[0] == "workflows"  # all of it, the last command too


def test_the_console_script_keeps_its_exit_codes() -> None:
    usage = _python(CONSOLE, "sync")
    assert usage.returncode == 2
    assert "give --customer NAME (repeatable) or --all" in usage.stderr
    assert "teardown" not in usage.stdout

    failed = _python(CONSOLE, "--log-level", "nonsense")
    assert failed.returncode == 2
    assert "teardown" not in failed.stdout


def test_main_called_with_arguments_exits_as_click_does() -> None:
    from zuora_pipeline.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0


# A thread still working when the command returns: the exit waits for it, as the interpreter's does.
# The thread finishes only once exit_now has looked for work left, so it is still running then.
THREAD_LEFT = """
import threading
from zuora_pipeline.cli import process
checked = threading.Event()
real = process._work_left
def watched():
    left = real()
    checked.set()
    return left
process._work_left = watched
def late():
    checked.wait()
    print("thread done", flush=True)
threading.Thread(target=late).start()
process.exit_now(3)
"""


def test_exit_waits_for_work_left_in_a_thread() -> None:
    result = _python(THREAD_LEFT)
    assert result.returncode == 3
    assert "thread done" in result.stdout


def test_exit_codes_are_those_of_sys_exit(capsys: pytest.CaptureFixture[str]) -> None:
    assert process.exit_code(None) == 0
    assert process.exit_code(2) == 2
    assert process.exit_code("boom") == 1
    assert capsys.readouterr().err == "boom\n"
