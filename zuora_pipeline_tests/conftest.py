import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Temporary files (Dagster test instances, SQLite warehouses, pytest's tmp_path) on tmpfs when
# the machine has one: Dagster's SQLite storages commit every event with a disk flush, which
# made the suite twice as slow on the dev machines' disks. Subprocesses inherit TMPDIR.
_SHM = Path("/dev/shm")
if _SHM.is_dir() and os.access(_SHM, os.W_OK) and "TMPDIR" not in os.environ:
    os.environ["TMPDIR"] = tempfile.mkdtemp(prefix="zuora_pipeline_tests_tmp_", dir=_SHM)
    tempfile.tempdir = os.environ["TMPDIR"]
    # tmpfs is memory: nothing of a run may stay behind.
    atexit.register(shutil.rmtree, os.environ["TMPDIR"], ignore_errors=True)

# Step retries wait a fraction of a second in tests instead of minutes (read at import of the
# definitions, so it is set before any test module imports them).
os.environ.setdefault("ZUORA_PIPELINE_STEP_RETRY_DELAY_S", "0.2")
# Keep the suite off the developer's real data directory and warehouse.
os.environ.pop("ZUORA_PIPELINE_DATABASE_URL", None)
os.environ["ZUORA_PIPELINE_DATA_DIR"] = tempfile.mkdtemp(prefix="zuora_pipeline_tests_")

# Fixtures live in small plugin modules so each layer's helpers are found by name.
pytest_plugins = [
    "zuora_pipeline_tests.fixtures.simulator",
    "zuora_pipeline_tests.fixtures.warehouse",
    "zuora_pipeline_tests.fixtures.pipeline",
    "zuora_pipeline_tests.fixtures.dagster_pg",
]
