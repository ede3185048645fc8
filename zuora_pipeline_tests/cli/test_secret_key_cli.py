"""`zuora-pipeline secret-key` and `secret-key rotate`: a key list, newest first, and every stored
client secret re-encrypted with the newest key in one transaction, while a sync runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from zuora_pipeline.cli import main
from zuora_pipeline.crypto import SecretBox, SecretKeyError, new_key
from zuora_pipeline.warehouse.schema import customers
from zuora_pipeline_tests.fixtures.dagster_dev import wait_until

CLI = str(Path(sys.executable).with_name("zuora-pipeline"))


def _stored(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(customers.c.name, customers.c.client_secret_encrypted)).all())


def _rotate(key: str) -> Any:
    return CliRunner().invoke(main, ["secret-key", "rotate"], env={"ZUORA_PIPELINE_SECRET_KEY": key})


def test_secret_key_alone_prints_a_new_key_each_time() -> None:
    first, second = (CliRunner().invoke(main, ["secret-key"]) for _ in range(2))
    assert first.exit_code == second.exit_code == 0
    assert first.output != second.output
    SecretBox(first.output.strip())  # a valid Fernet key


def test_rotate_reencrypts_every_secret_with_the_newest_key(cli_env: Any, sim_tenant: Any, secret_key: str) -> None:
    old = secret_key
    for n in range(3):
        cli_env.add_customer(sim_tenant(workflows=1), name=f"c{n}")
    before = _stored(cli_env.engine)
    new = new_key()

    rotated = _rotate(f"{new},{old}")

    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted 3 client secrets" in rotated.output
    assert new not in rotated.output and old not in rotated.output
    after = _stored(cli_env.engine)
    assert set(after) == set(before)
    for name, token in after.items():
        assert token != before[name]
        # Readable with the new key alone, no longer with the old one; the secret is unchanged.
        assert SecretBox(new).decrypt(token) == SecretBox(old).decrypt(before[name])
        with pytest.raises(SecretKeyError):
            SecretBox(old).decrypt(token)


def test_rotate_changes_nothing_when_a_secret_is_stored_with_another_key(
    cli_env: Any, sim_tenant: Any, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = secret_key
    cli_env.add_customer(sim_tenant(workflows=1), name="a-good")
    monkeypatch.setenv("ZUORA_PIPELINE_SECRET_KEY", new_key())
    cli_env.add_customer(sim_tenant(workflows=1), name="b-foreign")
    before = _stored(cli_env.engine)

    rotated = _rotate(f"{new_key()},{old}")

    assert rotated.exit_code == 1
    assert "b-foreign" in rotated.output and "no key in ZUORA_PIPELINE_SECRET_KEY" in rotated.output
    assert _stored(cli_env.engine) == before  # a-good's secret too: one transaction


def test_a_sync_running_while_the_key_is_rotated_succeeds(
    cli_env: Any, sim_tenant: Any, sim_admin_reset: Any, secret_key: str
) -> None:
    old, new = secret_key, new_key()
    tenant = sim_tenant(workflows=200, tasks=3)
    cli_env.add_customer(tenant, name="acme")
    # Slow enough that the rotation happens in the middle of the sync.
    sim_admin_reset.set_limits(latency_ms=400)
    sim_admin_reset.reset_stats()
    # Step 1 of a rotation: every process has NEW,OLD; the stored secret is still OLD's.
    env = {**os.environ, "ZUORA_PIPELINE_SECRET_KEY": f"{new},{old}"}
    sync = subprocess.Popen(
        [CLI, "sync", "--customer", "acme", "--in-process"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: sim_admin_reset.stats()["by_endpoint"].get("export", 0) > 0, 120, "the sync's first exports")
        rotated = subprocess.run(
            [CLI, "secret-key", "rotate"], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert rotated.returncode == 0, rotated.stderr
        assert sync.poll() is None, "the sync ended before the rotation: it did not run meanwhile"
        out, err = sync.communicate(timeout=300)
    finally:
        if sync.poll() is None:
            sync.kill()
    assert sync.returncode == 0, err
    assert "1 customer: 1 ok" in out
    cli_env.assert_matches_truth("acme", tenant.name)

    # Step 3: the old key dropped, syncs go on; the old key alone no longer reads the secret.
    sim_admin_reset.set_limits(latency_ms=0)
    again = subprocess.run(
        [CLI, "sync", "--customer", "acme", "--in-process", "--force"],
        env={**env, "ZUORA_PIPELINE_SECRET_KEY": new},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    stale = subprocess.run(
        [CLI, "sync", "--customer", "acme", "--in-process", "--force"],
        env={**env, "ZUORA_PIPELINE_SECRET_KEY": old},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert stale.returncode == 1
    assert "ZUORA_PIPELINE_SECRET_KEY is not the key it was stored with" in stale.stderr
