"""What the ``zuora-pipeline`` process costs around a command: its start-up imports and its exit.

Start-up: a sync imports ~1,700 modules (Dagster, SQLAlchemy, Alembic, httpx, pydantic, the
definitions). The garbage collector runs hundreds of times while they load, each full pass over
everything loaded so far: ~0.4 s of CPU, a fifth of the import time, for no garbage (modules and
classes live as long as the process). ``startup_imports`` turns the collector off while a
command's modules load, then freezes what they loaded, so no later collection traverses it.

Exit: a CLI process that has loaded Dagster spends ~0.2 s of CPU tearing down its modules and
objects after its last line is written. ``exit_now`` ends it once its output is flushed, with the
same exit code, unless work is still running in another thread or child process (then the
interpreter's own exit waits for it, as before).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def startup_imports() -> Iterator[None]:
    """No garbage collection while the block imports; what it loaded is frozen afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def exit_code(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives: None is 0, an int itself, anything else is
    printed on stderr and gives 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _work_left() -> bool:
    """Threads or child processes the interpreter's exit would wait for (or clean up)."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others:
        return True
    multiprocessing = sys.modules.get("multiprocessing")
    return bool(multiprocessing and multiprocessing.active_children())


def exit_now(code: object) -> None:
    """End the process with ``code``'s exit status, skipping the interpreter's teardown.

    Log handlers and stdout/stderr are flushed first; a flush that fails (a closed pipe) leaves
    the exit to the interpreter, which reports it as it always has."""
    status = exit_code(code)
    if _work_left():
        sys.exit(status)
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(status)
    os._exit(status)
