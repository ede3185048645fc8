"""Asset keys (DESIGN.md §4): every asset lives under the ``zuora`` prefix."""

import dagster as dg

WORKFLOW_PAGES = dg.AssetKey(["zuora", "workflow_pages"])
WORKFLOW_EXPORTS = dg.AssetKey(["zuora", "workflow_exports"])
WORKFLOWS = dg.AssetKey(["zuora", "workflows"])
WORKFLOW_TASKS = dg.AssetKey(["zuora", "workflow_tasks"])

GROUP = "zuora"
# Pool of the steps that call Zuora: caps concurrent API-facing steps across all runs
# (`dagster instance concurrency set zuora_api N`, or `pools.default_limit` in dagster.yaml).
API_POOL = "zuora_api"
