"""A bounded soak: 50 syncs of 3 customers with 5% random faults on the list and export
endpoints and random changes to the tenants between syncs. After every successful run the
warehouse equals the truth (a run whose exports partly failed keeps those workflows' last good
exports, by design, and must still list exactly the truth's workflows); after every failed run
the customer's rows are exactly as before. Rows lost must be 0.

Every sync re-exports all workflows (``full_refresh``) so each one makes enough requests to meet
faults. The runs use an in-memory Dagster instance (the harness's SQLite instance spends most of
a small sync in fsync); the job, the HTTP and PostgreSQL are the real ones.

Figures are printed and written to ``soak.json`` in the test's tmp dir.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from zuora_pipeline.runs.inprocess import ensure_partitions, run_sync

SYNCS = 50
CUSTOMERS = 3
SEED = 20261122
RATES = {"500": 0.01, "502": 0.01, "503": 0.01, "429": 0.01, "drop": 0.005, "malformed": 0.005}


def _live(rows: dict[int, dict[str, Any]]) -> set[int]:
    return {zid for zid, row in rows.items() if row["deleted_at"] is None}


@pytest.mark.soak
def test_soak_random_faults_and_changes_lose_nothing(
    pipeline: Any, sim_tenant: Any, sim_admin_reset: Any, tmp_path: Path
) -> None:
    admin = sim_admin_reset
    rng = random.Random(SEED)
    fleet: dict[str, Any] = {}
    for i in range(CUSTOMERS):
        tenant = sim_tenant(workflows=12, tasks=2, seed=i + 1)
        fleet[pipeline.add_customer(tenant)] = tenant
    instance = dg.DagsterInstance.ephemeral()
    ensure_partitions(instance, list(fleet))

    def sync(name: str) -> Any:
        return run_sync(instance, pipeline.engine, name, full_refresh=True)

    for name, tenant in fleet.items():
        assert sync(name).success
        pipeline.assert_matches_truth(name, tenant.name)

    admin.set_limits(retry_after="0")
    admin.set_fault_rates({"list": RATES, "export": RATES}, seed=SEED)
    admin.reset_stats()
    figures: Counter[str] = Counter()
    mutations: Counter[str] = Counter()
    failures: list[str] = []

    for _ in range(SYNCS):
        if rng.random() < 0.6:
            tenant = rng.choice(list(fleet.values()))
            change = admin.mutate(
                tenant.name,
                add=rng.randint(0, 2),
                update=rng.randint(0, 3),
                delete=rng.randint(0, 1),
                seed=rng.randrange(1 << 30),
            )
            mutations.update(added=len(change.added), updated=len(change.updated), deleted=len(change.deleted))
        name = rng.choice(list(fleet))
        tenant = fleet[name]
        before = pipeline.rows(name)

        outcome = sync(name)

        figures["syncs"] += 1
        figures["client_retries"] += outcome.stats.retries
        figures["export_errors"] += outcome.stats.errors
        if outcome.success:
            live = _live(pipeline.rows(name))
            truth = set(admin.truth(tenant.name))
            figures["rows_lost"] += len(truth - live)
            figures["ghost_rows"] += len(live - truth)
            if outcome.stats.errors == 0:
                pipeline.assert_matches_truth(name, tenant.name)
                figures["runs_equal_to_truth"] += 1
            else:
                figures["runs_keeping_last_good_exports"] += 1
        else:
            figures["failed_runs"] += 1
            failures.append(f"{name}: {outcome.error}")
            after = pipeline.rows(name)
            figures["rows_lost"] += len(_live(before) - _live(after))
            assert after == before, f"a failed run changed {name}'s rows: {outcome.error}"

    stats = admin.stats()
    admin.clear_faults()
    for name, tenant in fleet.items():  # once the faults stop, everything converges
        final = sync(name)
        assert final.success, final.error
        pipeline.assert_matches_truth(name, tenant.name)

    report = {
        "syncs": figures["syncs"],
        "customers": CUSTOMERS,
        "fault_rate_per_request": sum(RATES.values()),
        "faults_injected": dict(sorted(stats["faults_injected"].items())),
        "faults_injected_total": sum(stats["faults_injected"].values()),
        "requests": stats["requests_total"],
        "client_retries": figures["client_retries"],
        "failed_runs": figures["failed_runs"],
        "runs_equal_to_truth": figures["runs_equal_to_truth"],
        "runs_keeping_last_good_exports": figures["runs_keeping_last_good_exports"],
        "export_errors": figures["export_errors"],
        "rows_lost": figures["rows_lost"],
        "ghost_rows": figures["ghost_rows"],
        "mutations": dict(mutations),
        "failures": failures,
    }
    (tmp_path / "soak.json").write_text(json.dumps(report, indent=2))
    print("\nsoak figures:", json.dumps(report, indent=2))

    assert report["rows_lost"] == 0 and report["ghost_rows"] == 0
    assert report["faults_injected_total"] > 0, "the soak injected no fault"
