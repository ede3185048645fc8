"""Same seed => identical data; generation scales lazily."""

from __future__ import annotations

import pytest

from zuora_pipeline.simulator.config import SimulatorConfig
from zuora_pipeline.simulator.server import run_simulator
from zuora_pipeline.simulator.tenant import Tenant

pytestmark = pytest.mark.timeout(120)


def _snapshot(config: SimulatorConfig) -> tuple[list, dict]:
    with run_simulator(config) as handle:
        tenants = handle.admin.tenants()
        return tenants, {t.name: handle.admin.truth(t.name) for t in tenants}


def test_same_seed_gives_identical_tenants_and_data():
    config = SimulatorConfig(tenants=2, workflows=25, tasks=6, seed=11)
    assert _snapshot(config) == _snapshot(config)


def test_different_seed_gives_different_data():
    tenants_a, truth_a = _snapshot(SimulatorConfig(tenants=1, workflows=10, tasks=3, seed=1))
    tenants_b, truth_b = _snapshot(SimulatorConfig(tenants=1, workflows=10, tasks=3, seed=2))
    assert tenants_a[0].client_id != tenants_b[0].client_id
    assert truth_a != truth_b


def test_large_tenant_is_built_lazily():
    tenant = Tenant("big", workflows=10_000, tasks=20, seed=1)
    assert len(tenant.order) == 10_000 and tenant.order == sorted(tenant.order)
    assert tenant.exports.get(tenant.definitions[tenant.order[0]].versions[0].id) is None  # nothing rendered yet
    active_counts = [d.active_version().task_count for d in tenant.definitions.values() if d.active_version()]
    assert 0 in active_counts and 60 in active_counts
    assert 18 <= sum(active_counts) / len(active_counts) <= 22
    without_active = sum(1 for d in tenant.definitions.values() if d.active_version() is None)
    assert 300 <= without_active <= 700  # ~5%
