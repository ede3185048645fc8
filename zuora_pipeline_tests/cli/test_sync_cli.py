"""``zuora-pipeline sync`` and ``tasks reextract`` against the simulator."""

from __future__ import annotations

import json

import dagster as dg
import sqlalchemy as sa
from click.testing import CliRunner

from zuora_pipeline import config
from zuora_pipeline.cli import main
from zuora_pipeline.warehouse.schema import tasks


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_sync_in_process_prints_stats_and_skips_recent_syncs(cli_env, sim_tenant):
    tenant = sim_tenant(workflows=15, tasks=2)
    name = cli_env.add_customer(tenant)

    first = _run("sync", "--customer", name, "--in-process")

    assert first.exit_code == 0, first.output
    row = next(line for line in first.output.splitlines() if line.startswith(name))
    assert row.split()[1] == "ok" and row.split()[2] == "15"  # created
    cli_env.assert_matches_truth(name, tenant.name)

    skipped = _run("sync", "--customer", name, "--in-process")
    assert "within the last hour" in skipped.output and "nothing to sync" in skipped.output

    forced = _run("sync", "--customer", name, "--in-process", "--force", "--full-refresh")
    assert forced.exit_code == 0
    forced_row = next(line for line in forced.output.splitlines() if line.startswith(name))
    assert forced_row.split()[4] == "15"  # unchanged


def test_sync_exits_non_zero_when_a_customer_fails(cli_env, sim_tenant):
    good = cli_env.add_customer(sim_tenant(workflows=5, tasks=1))
    bad_tenant = sim_tenant(workflows=5, tasks=1)
    from zuora_pipeline.warehouse import customers
    from zuora_pipeline.warehouse.transactions import write_transaction

    bad = cli_env.add_customer(bad_tenant)
    with write_transaction(cli_env.engine) as conn:
        customers.update(conn, bad, client_secret_encrypted=config.secret_box().encrypt("nope"))

    result = CliRunner().invoke(main, ["sync", "--all", "--in-process"])

    assert result.exit_code == 1
    assert "2 customers: 1 ok, 1 FAILED" in result.stdout
    (error,) = result.stderr.splitlines()
    assert error.startswith(f"Error: {bad}: Zuora rejected the credentials")
    paused = json.loads(_run("customers", "list", "--json").output)
    assert {c["name"]: c["sync_status"] for c in paused} == {good: "active", bad: "paused"}
    again = _run("sync", "--all", "--in-process")
    assert f"skip {bad}: paused" in again.output
    # Even --force leaves a paused customer alone: its sync would make no Zuora call.
    forced = _run("sync", "--customer", bad, "--in-process", "--force")
    assert f"skip {bad}: paused" in forced.output and f"customers resume {bad}" in forced.output


def test_tasks_reextract_rebuilds_tasks_without_api_calls(cli_env, sim_tenant):
    tenant = sim_tenant(workflows=6, tasks=3)
    name = cli_env.add_customer(tenant)
    assert _run("sync", "--customer", name, "--in-process").exit_code == 0
    with cli_env.engine.begin() as conn:
        conn.execute(sa.delete(tasks))
    cli_env.simulator.admin.reset_stats()

    by_customer = _run("tasks", "reextract", "--customer", name)

    assert by_customer.exit_code == 0, by_customer.output
    assert "0 API calls" in by_customer.output
    assert sum(cli_env.requests().values()) == 0
    cli_env.assert_matches_truth(name, tenant.name)

    one = sorted(z for z, r in cli_env.rows(name).items() if r["tasks"])[0]
    single = _run("tasks", "reextract", "--workflow-id", str(one))
    assert single.exit_code == 0 and f"workflow {one}" in single.output
    assert _run("tasks", "reextract", "--all").exit_code == 0


def test_tasks_reextract_of_a_workflow_id_names_each_customer_that_has_it(cli_env, sim_tenant):
    # Each simulated tenant numbers its workflows from 1001: the same id, two workflows.
    admin = cli_env.simulator.admin
    tenants = [sim_tenant(workflows=0, tasks=3) for _ in range(3)]
    workflow_id = admin.add_workflow(tenants[0].name, tasks=2)
    assert admin.add_workflow(tenants[1].name, tasks=3) == workflow_id  # the third has none
    first, second, other = (cli_env.add_customer(tenant) for tenant in tenants)
    assert _run("sync", "--all", "--in-process").exit_code == 0
    counts = [len(cli_env.rows(name)[workflow_id]["tasks"]) for name in (first, second)]
    assert counts == [2, 3]
    with cli_env.engine.begin() as conn:
        conn.execute(sa.delete(tasks))

    both = _run("tasks", "reextract", "--workflow-id", str(workflow_id))

    assert both.exit_code == 0, both.output
    assert both.stdout.splitlines() == [
        f"{first}: workflow {workflow_id}: {counts[0]} tasks upserted, 0 removed",
        f"{second}: workflow {workflow_id}: {counts[1]} tasks upserted, 0 removed",
        f"workflow id {workflow_id} re-extracted in 2 customers (Zuora ids are per tenant); "
        "`--customer NAME` limits it to one",
    ]
    assert [len(cli_env.rows(name)[workflow_id]["tasks"]) for name in (first, second)] == counts

    one = _run("tasks", "reextract", "--workflow-id", str(workflow_id), "--customer", second)
    assert one.stdout.splitlines() == [f"{second}: workflow {workflow_id}: 3 tasks upserted, 0 removed"]
    elsewhere = CliRunner().invoke(main, ["tasks", "reextract", "--workflow-id", str(workflow_id), "--customer", other])
    assert elsewhere.exit_code == 1
    assert elsewhere.stderr.splitlines() == [
        f"Error: no stored export of Zuora workflow id {workflow_id} in customer {other}"
    ]


def test_the_summary_counts_every_customer_it_reports(cli_env, sim_tenant):
    names = [cli_env.add_customer(sim_tenant(workflows=2, tasks=1, seed=n)) for n in (1, 2, 3)]
    assert _run("customers", "pause", names[0]).exit_code == 0

    result = _run("sync", "--all", "--in-process")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "3 customers: 1 skipped, 2 ok"


def test_timeout_without_wait_is_refused_before_any_run(cli_env, sim_tenant):
    name = cli_env.add_customer(sim_tenant(workflows=1, tasks=1))

    result = CliRunner().invoke(main, ["sync", "--customer", name, "--timeout", "5"])

    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: --timeout is how long --wait waits: add --wait (queued runs) or drop --timeout; "
        "see `zuora-pipeline sync --help`"
    ]
    assert dg.DagsterInstance.get().get_runs() == []
