"""What an operator sees in a real ``dagster dev``: the warehouse's columns in the catalog (through
the UI's GraphQL), and a customer that stopped syncing reaching the alert webhook."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from zuora_pipeline.crypto import new_key
from zuora_pipeline.dagster_instance import ensure_instance_config
from zuora_pipeline.warehouse import customers, migrate, schema
from zuora_pipeline.warehouse.engine import get_engine
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline_tests.defs.reliability.support import receiver
from zuora_pipeline_tests.fixtures.dagster_dev import dagster_dev, wait_until

REPO = Path(__file__).resolve().parents[2]
ASSET_NODES = """
{ assetNodes { assetKey { path } owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } }
  metadataEntries { label __typename ... on TableSchemaMetadataEntry { schema { columns { name type } } } }
  dependencyKeys { path } } }"""


def _columns(node: dict) -> list[str]:
    entries = [e for e in node["metadataEntries"] if e["__typename"] == "TableSchemaMetadataEntry"]
    return [c["name"] for e in entries for c in e["schema"]["columns"]]


@pytest.mark.webserver
def test_the_catalog_shows_columns_and_a_stale_customer_is_alerted() -> None:
    with tempfile.TemporaryDirectory(prefix="zp_catalog_") as tmp, receiver() as hook:
        work = Path(tmp)
        home = work / "dagster_home"
        ensure_instance_config(home)
        url = f"sqlite:///{work / 'warehouse.sqlite'}"
        engine = get_engine(url)
        migrate.upgrade(engine)
        old = datetime.now(UTC) - timedelta(hours=5)
        with write_transaction(engine) as conn:
            customers.add(
                conn,
                name="stale-co",
                base_url="https://rest.zuora.com",
                client_id="c" * 36,
                client_secret_encrypted="x",
            )
            conn.execute(
                schema.customers.update().values(created_at=old, last_synced_at=old, last_sync_status="success")
            )
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "ZUORA_PIPELINE_DATABASE_URL": url,
            "ZUORA_PIPELINE_SECRET_KEY": new_key(),
            "ZUORA_PIPELINE_ALERT_WEBHOOK_URL": hook.base_url,
        }
        with dagster_dev(REPO, env, work / "dagster_dev.log") as server:
            nodes = {"/".join(n["assetKey"]["path"]): n for n in server.gql(ASSET_NODES)["assetNodes"]}
            schemas = {
                key: [
                    c["name"]
                    for e in node["metadataEntries"]
                    if e["__typename"] == "TableSchemaMetadataEntry"
                    for c in e["schema"]["columns"]
                ]
                for key, node in nodes.items()
            }
            assert schemas["zuora/workflows"] == [c.name for c in schema.workflows.columns]
            assert schemas["zuora/workflow_tasks"] == [c.name for c in schema.tasks.columns]
            assert "is_deleted" in schemas["zuora/analyst_workflows"]
            assert {"zuora/workflows", "zuora/workflow_tasks"} == {
                "/".join(d["path"]) for d in nodes["zuora/analyst_tasks"]["dependencyKeys"]
            }

            def stale_alert() -> list[dict]:
                return [
                    json.loads(r.body) for r in hook.requests if json.loads(r.body).get("event") == "customer_stale"
                ]

            posted = wait_until(stale_alert, 120, "the stale customer's alert")
            assert [p["customer"] for p in posted] == ["stale-co"]
            assert "no successful sync for 5 h" in posted[0]["text"]
