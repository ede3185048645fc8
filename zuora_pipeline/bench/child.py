"""One sync in a fresh process (the ``memory`` scenario): ``python -m zuora_pipeline.bench.child
CUSTOMER CONCURRENCY``. Prints one JSON line: wall time, API phase, rows, RSS before the sync.

The environment (warehouse URL, secret key, allowed hosts) is inherited from the bench.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

import dagster as dg
import psutil

from zuora_pipeline import config
from zuora_pipeline.runs.inprocess import ensure_partitions, run_sync
from zuora_pipeline.warehouse.engine import get_engine


def main(argv: list[str]) -> int:
    customer, concurrency = argv[0], int(argv[1])
    with tempfile.TemporaryDirectory() as home:
        with open(f"{home}/dagster.yaml", "w") as f:
            f.write("telemetry:\n  enabled: false\n")
        with dg.DagsterInstance.local_temp(home) as instance:
            ensure_partitions(instance, [customer])
            engine = get_engine(config.database_url())
            rss_before = psutil.Process().memory_info().rss / (1024 * 1024)
            started = time.perf_counter()
            outcome = run_sync(instance, engine, customer, resources_config={"zuora": {"concurrency": concurrency}})
            wall = time.perf_counter() - started
            if not outcome.success:
                print(outcome.error, file=sys.stderr)
                return 1
            assert outcome.run_id is not None, "an in-process run always has an id"
            meta: dict[str, dict] = {}
            for record in instance.all_logs(outcome.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
                m = record.get_dagster_event().step_materialization_data.materialization
                meta["/".join(m.asset_key.path)] = {k: v.value for k, v in m.metadata.items()}
    exports = meta["zuora/workflow_exports"]
    tasks = meta["zuora/workflow_tasks"]
    wf = meta["zuora/workflows"]
    print(
        json.dumps(
            {
                "wall_s": wall,
                "api_s": exports["duration_s"],
                "exportable": int(meta["zuora/workflow_pages"]["workflows_listed"])
                - int(exports["without_active_version"]),
                "rows": int(wf["created"]) + int(wf["updated"]) + int(tasks["upserted"]),
                "rss_before_mb": rss_before,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
