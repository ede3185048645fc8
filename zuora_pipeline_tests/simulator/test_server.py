"""Running the simulator: process mode, the click command, and the load-check helper."""

from __future__ import annotations

import os

import httpx
import pytest
from click.testing import CliRunner

from zuora_pipeline.simulator.cli import parse_fault_rates, simulator_group
from zuora_pipeline.simulator.config import SimulatorConfig
from zuora_pipeline.simulator.loadcheck import measure_throughput
from zuora_pipeline.simulator.server import run_simulator


@pytest.mark.timeout(120)
def test_process_mode_serves_and_stops():
    config = SimulatorConfig(
        tenants=1, workflows=12, tasks=3, seed=5, max_concurrency=7, fault_rates={"export": {"500": 0.25}}, fault_seed=3
    )
    with run_simulator(config, mode="process") as handle:
        assert handle.pid is not None and handle.pid != os.getpid()
        (tenant,) = handle.admin.tenants()
        assert tenant.workflows == 12
        assert handle.admin.config()["max_concurrency"] == 7  # the whole config crossed the process boundary
        assert handle.admin.faults()["rates"] == {"export": {"500": 0.25}}
        pid = handle.pid
    with pytest.raises(ProcessLookupError):  # terminated and reaped on exit
        os.kill(pid, 0)


@pytest.mark.timeout(60)
def test_thread_mode_stops_listening_on_exit():
    with run_simulator(SimulatorConfig(tenants=1, workflows=1)) as handle:
        base_url = handle.base_url
        assert handle.pid is None
        assert httpx.get(f"{base_url}/__admin/health").json() == {"ok": True}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/__admin/health", timeout=2)


def test_parse_fault_rates():
    assert parse_fault_rates(("export:500:0.05", "export:drop:0.01", "any:timeout:0.1")) == {
        "export": {"500": 0.05, "drop": 0.01},
        "any": {"timeout": 0.1},
    }


@pytest.mark.parametrize("value", ["export:500", "export:500:lots"])
def test_parse_fault_rates_rejects_bad_values(value):
    result = CliRunner().invoke(simulator_group, ["serve", "--fault-rate", value])
    assert result.exit_code == 2
    assert "--fault-rate" in result.output


def test_serve_rejects_an_invalid_config_without_a_traceback():
    result = CliRunner().invoke(simulator_group, ["serve", "--fault-rate", "export:teapot:0.5"])
    assert result.exit_code == 2
    assert "teapot" in result.output and "Traceback" not in result.output


def test_serve_help_lists_the_options():
    result = CliRunner().invoke(simulator_group, ["serve", "--help"])
    assert result.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--tenants",
        "--workflows",
        "--tasks",
        "--seed",
        "--latency-ms",
        "--max-concurrency",
        "--retry-after",
        "--rate-per-minute",
        "--token-ttl",
        "--fault-rate",
        "--log-level",
    ):
        assert option in result.output


@pytest.mark.timeout(60)
def test_measure_throughput_reports_counts(simulator, sim_tenant):
    tenant = sim_tenant(workflows=10, tasks=3)
    result = measure_throughput(simulator.base_url, seconds=0.5, concurrency=4, tenant=tenant.name, reset_stats=False)
    assert result["requests"] > 0 and set(result["statuses"]) == {"200"}
    assert 1 <= result["peak_in_flight_server"] <= 4 and result["peak_in_flight_client"] <= 4
