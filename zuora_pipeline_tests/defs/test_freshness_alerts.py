"""A customer that stops syncing reaches the alert channels: once per stale episode, again when
it recovers; paused customers and customers added moments ago do not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from zuora_pipeline.audit.freshness import CustomerSync
from zuora_pipeline.defs.factory import build_definitions
from zuora_pipeline.defs.freshness_alerts import SENSOR_NAME, changes
from zuora_pipeline.defs.notifications import AlertChannels
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.schema import customers as customers_table
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.defs.reliability.support import receiver

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=2)


def _sync(name: str, hours_ago: float | None, status: str = "active", created_hours_ago: float = 100) -> CustomerSync:
    last = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    return CustomerSync(name, status, last, None, NOW - timedelta(hours=created_hours_ago))


def test_a_stale_episode_alerts_once_and_its_end_once() -> None:
    fleet = [_sync("fresh", 1), _sync("late", 5), _sync("never", None)]
    alerts, stale = changes(fleet, set(), NOW, WINDOW)
    assert sorted((a.customer, a.stale) for a in alerts) == [("late", True), ("never", True)]
    assert stale == {"late", "never"}
    # The next tick: nothing new to say.
    again, stale = changes(fleet, stale, NOW, WINDOW)
    assert again == [] and stale == {"late", "never"}
    # "late" synced again: one recovery alert, then silence.
    fleet = [_sync("fresh", 1), _sync("late", 0.1), _sync("never", None)]
    recovered, stale = changes(fleet, stale, NOW, WINDOW)
    assert [(a.customer, a.stale) for a in recovered] == [("late", False)] and stale == {"never"}
    assert "synced successfully" in recovered[0].summary


def test_paused_and_just_added_customers_do_not_alert() -> None:
    fleet = [_sync("off", 9, status="paused"), _sync("brand-new", None, created_hours_ago=0.5)]
    alerts, stale = changes(fleet, set(), NOW, WINDOW)
    assert alerts == [] and stale == set()
    # A stale customer that gets paused leaves quietly: its pause had its own alert.
    alerts, stale = changes([_sync("off", 9, status="paused")], {"off"}, NOW, WINDOW)
    assert alerts == [] and stale == set()


def test_the_sensor_posts_to_the_webhook_once_per_episode(pg_engine, pg_url) -> None:
    from zuora_pipeline.defs.resources import WarehouseResource

    with write_transaction(pg_engine) as conn:
        customers.add(
            conn, name="acme", base_url="https://rest.zuora.com", client_id="c" * 36, client_secret_encrypted="x"
        )
        old = datetime.now(UTC) - timedelta(hours=3)
        conn.execute(customers_table.update().values(created_at=old, last_synced_at=old, last_sync_status="success"))
    with receiver() as hook, dg.instance_for_test() as instance:
        resources = {
            "warehouse": WarehouseResource(database_url=pg_url),
            "alerts": AlertChannels(webhook_url=hook.base_url),
        }
        defs = build_definitions(
            PipelineOptions(), resources={**resources, "zuora": dg.ResourceDefinition.none_resource()}
        )
        sensor = defs.resolve_sensor_def(SENSOR_NAME)
        repo = defs.get_repository_def()

        def tick(cursor: str | None) -> str | None:
            context = dg.build_sensor_context(
                instance=instance,
                cursor=cursor,
                repository_def=repo,
                resources=resources,
                instance_ref=instance.get_ref(),
            )
            sensor.evaluate_tick(context)
            return context.cursor

        cursor = tick(None)
        cursor = tick(cursor)
        posted = [json.loads(r.body) for r in hook.requests]
        assert [(p["event"], p["customer"]) for p in posted] == [("customer_stale", "acme")]
        assert "no successful sync for 3 h" in posted[0]["text"]
        with write_transaction(pg_engine) as conn:
            conn.execute(customers_table.update().values(last_synced_at=datetime.now(UTC)))
        tick(cursor)
        posted = [json.loads(r.body) for r in hook.requests]
        assert [p["event"] for p in posted] == ["customer_stale", "customer_recovered"]
