"""The development Dagster instance's configuration (``zuora_pipeline/dagster.yaml``, also the
repository root's ``dagster.yaml``): the run queue's per-customer and backfill limits, the
``zuora_api`` pool limit, run monitoring and telemetry off, on Dagster's default SQLite storage.

Dagster reads ``$DAGSTER_HOME/dagster.yaml`` when DAGSTER_HOME is set and ignores the one in the
current directory, so every instance directory the CLI or the demo uses gets this file written.
"""

from __future__ import annotations

from pathlib import Path

DAGSTER_YAML = "dagster.yaml"
DEV_INSTANCE_CONFIG = Path(__file__).with_name(DAGSTER_YAML)


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
