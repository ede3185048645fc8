"""The hourly schedule's tick does not resolve dynamic partitions key by key (on Dagster
1.13 one database query per key made 5,000 customers take ~57 s)."""

from __future__ import annotations

import math

import dagster as dg
import pytest
import sqlalchemy as sa

from zuora_pipeline import config
from zuora_pipeline.bench.orchestration import _evaluate
from zuora_pipeline.warehouse.schema import customers
from zuora_pipeline_tests.fixtures.keys import customers_partitions, hourly_workflow_sync

COUNT = 40


def test_tick_builds_requests_without_a_partition_query_per_key(
    sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"tick-{i:03d}" for i in range(COUNT)]
    with sqlite_engine.begin() as conn:
        conn.execute(
            sa.insert(customers),
            [
                {"name": n, "base_url": "https://rest.zuora.com", "client_id": "c", "client_secret_encrypted": "x"}
                for n in names
            ],
        )
    url = sqlite_engine.url.render_as_string(hide_password=False)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(customers_partitions.name, names)
        calls = {"has": 0, "get": 0}
        has, get = instance.has_dynamic_partition, instance.get_dynamic_partitions

        def counting_has(*args: object, **kwargs: object) -> bool:
            calls["has"] += 1
            return has(*args, **kwargs)

        def counting_get(*args: object, **kwargs: object) -> list[str]:
            calls["get"] += 1
            return get(*args, **kwargs)

        monkeypatch.setattr(instance, "has_dynamic_partition", counting_has)
        monkeypatch.setattr(instance, "get_dynamic_partitions", counting_get)
        requested = _evaluate(hourly_workflow_sync, instance, url)
    # Runs of up to customers_per_run customers each (all active, so contiguous ranges).
    assert requested == math.ceil(COUNT / config.customers_per_run())
    assert calls["has"] == 0  # no per-key validation
    assert calls["get"] <= 2  # one listing of the partitions, whatever the number of customers
