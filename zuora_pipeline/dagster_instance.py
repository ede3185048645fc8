"""The development Dagster instance's configuration (``zuora_pipeline/dagster.yaml``, also the
repository root's ``dagster.yaml``): the run queue's per-customer and backfill limits, the
``zuora_api`` pool limit, run monitoring and telemetry off, on Dagster's default SQLite storage.

Dagster reads ``$DAGSTER_HOME/dagster.yaml`` when DAGSTER_HOME is set and ignores the one in the
current directory, so every instance directory the CLI or the demo uses gets this file written.

A command killed at any moment must leave nothing that breaks the next one. Dagster creates its
SQLite storage (``history/runs.db``, ``history/runs/index.db``, ``schedules/schedules.db``) table by
table in the instance directory: a first command killed meanwhile left a database without its
tables or schema stamp, and every later command failed with Dagster's "run dagster instance
migrate". So the CLI creates that storage in a directory beside it and moves it into place, and
says in one line how to repair an instance directory that something else left half-made.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

DAGSTER_YAML = "dagster.yaml"
DEV_INSTANCE_CONFIG = Path(__file__).with_name(DAGSTER_YAML)

# Keys of dagster.yaml that move Dagster's storage out of the instance directory (PostgreSQL
# creates each storage's tables and schema stamp in one transaction: nothing to do there).
_STORAGE_KEYS = ("storage", "run_storage", "event_log_storage", "schedule_storage")
# Dagster's SQLite storage in an instance directory, in the order it is moved into place: the
# run storage's `history` last, so its presence means the storage is complete.
_STORAGE_DIRS = ("schedules", "history")
_DATABASES = ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")
_BUILD_PREFIX = ".storage-build-"
_LOCK = ".storage.lock"


class DagsterHomeError(RuntimeError):
    """The instance directory's storage is incomplete and the CLI cannot repair it safely."""


def ensure_instance_config(home: Path) -> Path:
    """Write the development instance configuration into ``home`` unless it already has a
    ``dagster.yaml`` (e.g. a production one, which is never replaced). Returns the file's path."""
    home.mkdir(parents=True, exist_ok=True)
    target = home / DAGSTER_YAML
    if not target.exists():
        # Written beside and renamed, so a concurrent reader never sees half a file.
        partial = home / f".{DAGSTER_YAML}.partial"
        partial.write_text(DEV_INSTANCE_CONFIG.read_text())
        partial.replace(target)
    return target


def ensure_instance_storage(home: Path) -> None:
    """Give ``home`` (with its ``dagster.yaml``) complete SQLite storage, unless its configuration
    puts the storage elsewhere. Created in a build directory inside ``home`` and moved into place
    under a lock, so that neither an interruption nor a second command starting at the same time
    leaves half of it; leftovers of an interrupted creation are removed first. Raises
    DagsterHomeError for storage left incomplete by something else (an older version, a killed
    `dagster dev`): repairing it is Dagster's `dagster instance migrate`."""
    config = yaml.safe_load((home / DAGSTER_YAML).read_text()) or {}
    if any(key in config for key in _STORAGE_KEYS):
        return
    if not (home / "history").is_dir():
        with _locked(home):
            if not (home / "history").is_dir():  # another command may have made it meanwhile
                _create_storage(home)
    _check_complete(home)


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    # flock: the kernel releases it when its holder dies, however it dies.
    with (home / _LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _create_storage(home: Path) -> None:
    import dagster as dg

    # Holding the lock, whatever is here is a leftover of a creation that was interrupted: its
    # build directory, and the directories it had moved before `history`.
    for leftover in home.glob(f"{_BUILD_PREFIX}*"):
        shutil.rmtree(leftover)
    for name in _STORAGE_DIRS:
        if (home / name).exists():
            shutil.rmtree(home / name)
    build = Path(tempfile.mkdtemp(prefix=_BUILD_PREFIX, dir=home))
    shutil.copyfile(home / DAGSTER_YAML, build / DAGSTER_YAML)
    with dg.DagsterInstance.from_config(str(build)):
        pass
    for name in _STORAGE_DIRS:
        os.replace(build / name, home / name)
    shutil.rmtree(build)


def _check_complete(home: Path) -> None:
    """Each of Dagster's databases is stamped with its schema revision once all its tables exist."""
    for database in _DATABASES:
        path = home / database
        if path.exists() and not _stamped(path):
            raise DagsterHomeError(
                f"the Dagster instance at {home} was left incomplete by an interrupted command "
                f"({database} has no schema revision): repair it with "
                f"`DAGSTER_HOME={home} dagster instance migrate`"
            )


def _stamped(path: Path) -> bool:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone() is not None
    except sqlite3.OperationalError:  # no alembic_version table
        return False
    finally:
        connection.close()
