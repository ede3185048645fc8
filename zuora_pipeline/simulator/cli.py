"""``zuora-pipeline simulator serve``: the lead mounts ``simulator_group`` on the main CLI."""

from __future__ import annotations

import errno
import json

import click

from zuora_pipeline.simulator.config import SimulatorConfig


def parse_fault_rates(values: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """``("export:500:0.05", "any:drop:0.01")`` -> ``{"export": {"500": 0.05}, "any": {"drop": 0.01}}``."""
    rates: dict[str, dict[str, float]] = {}
    for value in values:
        parts = value.split(":")
        if len(parts) != 3:
            raise click.BadParameter(f"{value!r} is not endpoint:kind:probability", param_hint="--fault-rate")
        endpoint, kind, prob = parts
        try:
            rates.setdefault(endpoint, {})[kind] = float(prob)
        except ValueError:
            raise click.BadParameter(f"{prob!r} is not a number", param_hint="--fault-rate") from None
    return rates


@click.group("simulator")
def simulator_group() -> None:
    """The Zuora-compatible HTTP simulator."""


@simulator_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8089, show_default=True, type=int)
@click.option("--tenants", default=2, show_default=True, type=click.IntRange(min=0))
@click.option("--workflows", default=20, show_default=True, type=click.IntRange(min=0), help="Workflows per tenant.")
@click.option("--tasks", default=5, show_default=True, type=click.IntRange(min=0), help="Average tasks per workflow.")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--latency-ms", default=0.0, show_default=True, type=click.FloatRange(min=0))
@click.option("--max-concurrency", default=None, type=click.IntRange(min=1), help="Per tenant; default unlimited.")
@click.option("--retry-after", default="120", show_default=True, help="Retry-After value sent with 429s.")
@click.option("--rate-per-minute", default=None, type=click.IntRange(min=1), help="Per tenant; default unlimited.")
@click.option("--token-ttl", default=3599, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--fault-rate",
    "fault_rates",
    multiple=True,
    metavar="ENDPOINT:KIND:PROB",
    help="Random fault, e.g. export:500:0.05 (repeatable).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option("--config-json", default=None, hidden=True, help="Whole SimulatorConfig as JSON (process mode).")
@click.option("--quiet", is_flag=True, hidden=True, help="Do not print the banner.")
def serve_command(
    host: str,
    port: int,
    tenants: int,
    workflows: int,
    tasks: int,
    seed: int,
    latency_ms: float,
    max_concurrency: int | None,
    retry_after: str,
    rate_per_minute: int | None,
    token_ttl: int,
    fault_rates: tuple[str, ...],
    log_level: str,
    config_json: str | None,
    quiet: bool,
) -> None:
    """Serve simulated Zuora tenants until interrupted."""
    from zuora_pipeline.simulator.server import (
        serve,  # uvicorn is imported only when serving
    )

    try:
        if config_json is not None:
            config = SimulatorConfig.from_json(json.loads(config_json))
        else:
            config = SimulatorConfig(
                tenants=tenants,
                workflows=workflows,
                tasks=tasks,
                seed=seed,
                latency_ms=latency_ms,
                max_concurrency=max_concurrency,
                retry_after=retry_after,
                rate_per_minute=rate_per_minute,
                token_ttl=token_ttl,
                fault_rates=parse_fault_rates(fault_rates),
            )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        serve(config, host, port, log_level=log_level, announce=not quiet)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"port {port} on {host} is already in use (a simulator still running?): stop what listens "
                f"there or choose another --port"
            ) from None
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EACCES):  # not this machine's address; a privileged port
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        raise
