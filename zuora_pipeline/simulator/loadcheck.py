"""Measure how many requests/s a running simulator sustains, so we can show it is never the
bottleneck of a benchmark. Not a test (timings vary by machine); run it by hand:

    .venv/bin/python -m zuora_pipeline.simulator.loadcheck                 # 0 ms latency, 64 clients
    .venv/bin/python -m zuora_pipeline.simulator.loadcheck --latency-ms 200 --concurrency 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from typing import Any

import httpx

from zuora_pipeline.simulator.admin_client import SimulatorAdmin

WORKERS_PER_CLIENT = 8


def _fast_fail_sniffio_import() -> None:
    """httpcore tries ``import sniffio`` on every request; when sniffio is not installed the
    failed import walks sys.path each time (~12 times per request, milliseconds of CPU), which
    made this *client* the bottleneck. A ``None`` entry in sys.modules makes that import fail
    instantly, and httpcore then falls back to asyncio exactly as before."""
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


async def _drive(
    base_url: str, seconds: float, concurrency: int, tenant: str | None, endpoint: str, reset_stats: bool
) -> dict[str, Any]:
    with SimulatorAdmin(base_url) as admin:
        info = admin.tenant(tenant) if tenant else admin.tenants()[0]
        truth_ids = [wid for wid, entry in admin.truth(info.name).items() if entry["export"] is not None]
        if reset_stats:
            admin.reset_stats()
    # httpcore scans every pooled connection on each request, so one big pool makes the *client*
    # the bottleneck; small pools (one per 8 workers) sharing one SSL context keep it O(1).
    ssl_context = httpx.create_ssl_context()
    n_clients = (concurrency + WORKERS_PER_CLIENT - 1) // WORKERS_PER_CLIENT
    limits = httpx.Limits(max_connections=WORKERS_PER_CLIENT, max_keepalive_connections=WORKERS_PER_CLIENT)
    clients = [
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0, verify=ssl_context) for _ in range(n_clients)
    ]
    try:
        token = (
            await clients[0].post(
                "/oauth/token",
                data={
                    "client_id": info.client_id,
                    "client_secret": info.client_secret,
                    "grant_type": "client_credentials",
                },
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        statuses: Counter[int] = Counter()
        in_flight = 0
        peak = 0
        deadline = time.perf_counter() + seconds

        async def worker(offset: int) -> None:
            nonlocal in_flight, peak
            client = clients[offset // WORKERS_PER_CLIENT]
            index = offset
            while time.perf_counter() < deadline:
                wid = truth_ids[index % len(truth_ids)]
                index += concurrency
                path = f"/workflows/{wid}/export" if endpoint == "export" else "/workflows?page=1&page_length=50"
                in_flight += 1
                peak = max(peak, in_flight)
                try:
                    response = await client.get(path, headers=headers)
                    await response.aread()
                    statuses[response.status_code] += 1
                except httpx.HTTPError:
                    statuses[0] += 1
                finally:
                    in_flight -= 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    with SimulatorAdmin(base_url) as admin:
        server_peak = admin.stats()["max_in_flight"].get(info.name, 0)
    total = sum(statuses.values())
    return {
        "requests": total,
        "seconds": round(elapsed, 3),
        "rps": round(total / elapsed, 1),
        "concurrency": concurrency,
        "peak_in_flight_client": peak,
        "peak_in_flight_server": server_peak,
        "statuses": {str(k): v for k, v in statuses.items()},
        "endpoint": endpoint,
    }


def measure_throughput(
    base_url: str,
    seconds: float = 5.0,
    concurrency: int = 64,
    *,
    tenant: str | None = None,
    endpoint: str = "export",
    reset_stats: bool = True,
) -> dict[str, Any]:
    """Drive ``base_url`` with ``concurrency`` keep-alive requests in flight for ``seconds``;
    return requests/s and the peak in flight seen by client and server (``reset_stats``
    clears the server's stats first so its peak covers this run only)."""
    _fast_fail_sniffio_import()
    return asyncio.run(_drive(base_url, seconds, concurrency, tenant, endpoint, reset_stats))


def _measure_in_child(args: tuple[str, float, int, str]) -> dict[str, Any]:
    base_url, seconds, concurrency, endpoint = args
    return measure_throughput(base_url, seconds, concurrency, endpoint=endpoint, reset_stats=False)


def measure_throughput_multi(
    base_url: str, seconds: float = 5.0, concurrency: int = 64, *, processes: int = 2, endpoint: str = "export"
) -> dict[str, Any]:
    """Like ``measure_throughput`` but split over ``processes`` client processes, because one
    Python httpx client process tops out below what the simulator can serve."""
    import multiprocessing

    with SimulatorAdmin(base_url) as admin:
        admin.reset_stats()
    share = max(1, concurrency // processes)
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_measure_in_child, [(base_url, seconds, share, endpoint)] * processes)
    with SimulatorAdmin(base_url) as admin:
        server_peak = max(admin.stats()["max_in_flight"].values(), default=0)
    statuses: Counter[str] = Counter()
    for part in parts:
        statuses.update(part["statuses"])
    elapsed = max(part["seconds"] for part in parts)
    total = sum(part["requests"] for part in parts)
    return {
        "requests": total,
        "seconds": elapsed,
        "rps": round(sum(part["rps"] for part in parts), 1),
        "concurrency": share * processes,
        "client_processes": processes,
        "peak_in_flight_client": sum(part["peak_in_flight_client"] for part in parts),
        "peak_in_flight_server": server_peak,
        "statuses": dict(statuses),
        "endpoint": endpoint,
    }


def _process_cpu_s(pid: int | None) -> float:
    """User+system CPU seconds of ``pid`` from /proc (Linux); 0.0 elsewhere."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    from zuora_pipeline.simulator.config import SimulatorConfig
    from zuora_pipeline.simulator.server import run_simulator

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--endpoint", choices=("export", "list"), default="export")
    parser.add_argument("--mode", choices=("process", "thread"), default="process")
    parser.add_argument("--client-processes", type=int, default=1)
    args = parser.parse_args()
    config = SimulatorConfig(tenants=1, workflows=args.workflows, tasks=args.tasks, latency_ms=args.latency_ms)
    with run_simulator(config, mode=args.mode) as handle:
        measure_throughput(
            handle.base_url, seconds=1.0, concurrency=min(args.concurrency, 32), endpoint=args.endpoint
        )  # warm the export cache and connections
        cpu_before = _process_cpu_s(handle.pid)
        if args.client_processes > 1:
            result = measure_throughput_multi(
                handle.base_url,
                seconds=args.seconds,
                concurrency=args.concurrency,
                processes=args.client_processes,
                endpoint=args.endpoint,
            )
        else:
            result = measure_throughput(
                handle.base_url, seconds=args.seconds, concurrency=args.concurrency, endpoint=args.endpoint
            )
        if handle.pid is not None:
            # Share of one core the server used: well under 1.0 means the client was the limit.
            result["server_cpu_share"] = round((_process_cpu_s(handle.pid) - cpu_before) / result["seconds"], 2)
    result["latency_ms"] = args.latency_ms
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
