"""Loading the code location freezes what it loaded, so the garbage collector never traverses it
again (each full collection, interpreter teardown at a run worker's exit)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
before = gc.get_freeze_count()
import dagster
unfrozen_dagster = gc.get_freeze_count() - before
import zuora_pipeline.definitions
print(unfrozen_dagster, gc.get_freeze_count())
"""


def test_loading_the_definitions_freezes_every_object_loaded_so_far() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    unfrozen_dagster, frozen = map(int, result.stdout.split())
    assert unfrozen_dagster == 0  # nothing below the definitions freezes anything
    assert frozen > 100_000, frozen  # Dagster's modules and more: hundreds of thousands of objects
