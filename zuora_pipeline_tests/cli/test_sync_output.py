"""``sync`` output: a row per customer as soon as it finishes, ``--json`` lines with stable keys."""

from __future__ import annotations

import json
import sys

from click.testing import CliRunner

from zuora_pipeline import config
from zuora_pipeline.cli import main
from zuora_pipeline.cli.report import JSON_KEYS
from zuora_pipeline.logic.stats import STAT_KEYS, Stats
from zuora_pipeline.runs import inprocess as runner
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.transactions import write_transaction


def _break_credentials(harness, name: str) -> None:
    with write_transaction(harness.engine) as conn:
        customers.update(conn, name, client_secret_encrypted=config.secret_box().encrypt("wrong"))


def test_each_row_is_printed_before_the_next_customer_starts(cli_env, sim_tenant, monkeypatch):
    names = sorted(cli_env.add_customer(sim_tenant(workflows=3, tasks=1)) for _ in range(3))  # --all's order
    printed_before: dict[str, str] = {}
    real_run_sync = runner.run_sync

    def observed(instance, engine, customer, **kwargs):
        sys.stdout.flush()
        printed_before[customer] = sys.stdout.buffer.getvalue().decode()  # click's runner captures bytes
        return real_run_sync(instance, engine, customer, **kwargs)

    monkeypatch.setattr(runner, "run_sync", observed)

    result = CliRunner().invoke(main, ["sync", "--all", "--in-process"])

    assert result.exit_code == 0, result.output
    for number, name in enumerate(names):
        rows_so_far = [line.split()[0] for line in printed_before[name].splitlines()[1:]]
        assert rows_so_far == names[:number], f"when {name} started: {printed_before[name]!r}"
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["CUSTOMER", "RESULT"]
    assert [line.split()[:2] for line in lines[1:4]] == [[n, "ok"] for n in names]
    assert lines[4] == "3 customers: 3 ok"


def test_json_is_one_object_per_customer_with_stable_keys(cli_env, sim_tenant):
    good = cli_env.add_customer(sim_tenant(workflows=4, tasks=2))
    bad = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    paused = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    _break_credentials(cli_env, bad)
    with write_transaction(cli_env.engine) as conn:
        sync_runs.pause(conn, paused)

    result = CliRunner().invoke(main, ["sync", "--all", "--in-process", "--json"])

    assert result.exit_code == 1
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(tuple(o) == JSON_KEYS for o in objects), objects
    by_name = {o["customer"]: o for o in objects}
    assert set(by_name) == {good, bad, paused} and len(objects) == 3
    assert by_name[paused]["status"] == "skipped" and "paused" in by_name[paused]["error"]
    assert by_name[paused]["run_id"] is None and by_name[paused]["created"] is None
    assert by_name[good]["status"] == "success" and by_name[good]["created"] == 4 and by_name[good]["error"] is None
    assert by_name[good]["seconds"] > 0 and len(by_name[good]["run_id"]) == 36
    assert by_name[bad]["status"] == "failed" and "rejected the credentials" in by_name[bad]["error"]
    assert result.stderr.splitlines() == [f"Error: {bad}: {by_name[bad]['error']}"]


def test_nothing_to_sync_in_json_is_only_the_skips(cli_env, sim_tenant):
    name = cli_env.add_customer(sim_tenant(workflows=2, tasks=1))
    assert CliRunner().invoke(main, ["sync", "--customer", name, "--in-process"]).exit_code == 0

    again = CliRunner().invoke(main, ["sync", "--customer", name, "--in-process", "--json"])

    assert again.exit_code == 0
    (line,) = again.stdout.splitlines()
    assert json.loads(line)["status"] == "skipped" and "within the last hour" in json.loads(line)["error"]


def test_on_a_terminal_rows_and_errors_print_around_the_progress_line(capsys):
    from zuora_pipeline.cli.report import SyncReport

    ok = runner.SyncOutcome("acme", True, "run-1", 1.5, Stats(**dict.fromkeys(STAT_KEYS, 2)))
    failed = runner.SyncOutcome("globex", False, "run-2", 0.5, Stats(), error="it broke")
    with SyncReport(as_json=False, total=2, live=True) as report:
        report.running("syncing acme (1 of 2)")
        report.finished(ok)
        report.running("syncing globex (2 of 2)")
        report.finished(failed)
    out, err = capsys.readouterr()
    rows = [line.split()[:3] for line in out.splitlines() if line.startswith(("acme", "globex"))]
    assert rows == [["acme", "ok", "2"], ["globex", "FAILED", "0"]]
    assert "Error: globex: it broke" in err
    assert report.summary() == "2 customers: 1 ok, 1 FAILED"
