"""``zuora-pipeline bench [scenario ...] [--json FILE] [--repeat N]``."""

from __future__ import annotations

from collections.abc import Callable

import click

from zuora_pipeline.bench import browse_scenario, orchestration, scenarios, warehouse_scenario
from zuora_pipeline.bench.env import BenchEnv, bench_env
from zuora_pipeline.bench.report import table, write_json
from zuora_pipeline.bench.results import ScenarioResult

SCENARIOS = ("full", "incremental", "changed", "memory", "warehouse", "search", "tick", "fleet", "browse")
NEEDS_FULL = {"incremental", "changed"}
NEEDS_BASELINE = {"full", "incremental", "changed", "memory", "fleet"}


def run_scenarios(
    names: list[str],
    *,
    repeat: int,
    scale: float,
    progress: Callable[[str], None] = lambda _m: None,
    fleet_customers: int | None = None,
) -> list[ScenarioResult]:
    results: list[ScenarioResult] = []
    with bench_env() as env:
        baseline = None
        if NEEDS_BASELINE & set(names):
            progress("sequential baseline (concurrency 1, full refresh)")
            baseline = scenarios.measure_baseline(env, scale)
        state = None
        for name in SCENARIOS:  # the table's order; incremental and changed follow full
            if name not in names and not (name == "full" and NEEDS_FULL & set(names)):
                continue
            progress(name)
            if name == "full":
                assert baseline is not None, "full is in NEEDS_BASELINE"
                result, state = scenarios.full(env, scale, repeat, baseline)
                if "full" in names:
                    results.append(result)
            else:
                results.append(_run_one(name, env, scale, repeat, baseline, state, fleet_customers))
    return results


def _run_one(
    name: str,
    env: BenchEnv,
    scale: float,
    repeat: int,
    baseline: scenarios.Baseline | None,
    state: scenarios.FullState | None,
    fleet_customers: int | None = None,
) -> ScenarioResult:
    if name == "warehouse":
        return warehouse_scenario.warehouse(env, scale)
    if name == "search":
        return warehouse_scenario.search(env, scale, repeat)
    if name == "tick":
        return orchestration.tick(env, scale, max(repeat, 3))
    if name == "browse":
        return browse_scenario.browse(env, scale, repeat)
    assert baseline is not None, f"{name} is in NEEDS_BASELINE: the baseline is measured first"
    if name == "memory":
        return scenarios.memory(env, scale, baseline)
    if name == "fleet":
        return orchestration.fleet(env, scale, baseline, customer_count=fleet_customers)
    assert state is not None, f"{name} is in NEEDS_FULL: the full scenario runs first"
    if name == "incremental":
        return scenarios.incremental(env, state, repeat, baseline)
    return scenarios.changed(env, state, repeat, baseline)


@click.command(name="bench")
@click.argument("scenario", nargs=-1, type=click.Choice(SCENARIOS))
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the results as JSON.")
@click.option(
    "--repeat",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Repetitions of the short scenarios (the table shows medians).",
)
@click.option(
    "--scale",
    type=click.FloatRange(0.001, 10),
    default=1.0,
    hidden=True,
    help="Multiply every workload (the smoke test runs tiny ones).",
)
@click.option(
    "--fleet-customers",
    type=click.IntRange(min=2),
    default=None,
    help=f"Customers of the fleet scenario (default {orchestration.FLEET_CUSTOMERS}).",
)
def bench_command(
    scenario: tuple[str, ...], json_path: str | None, repeat: int, scale: float, fleet_customers: int | None
) -> None:
    """Measure the sync against its request lower bound on a local simulator.

    Runs the given scenarios (all nine by default) and prints one row per scenario, with the
    sequential baseline (concurrency 1, every workflow exported) beside each.
    """
    names = list(scenario) or list(SCENARIOS)
    results = run_scenarios(
        names,
        repeat=repeat,
        scale=scale,
        progress=lambda m: click.echo(f"bench: {m} ...", err=True),
        fleet_customers=fleet_customers,
    )
    click.echo(table(results))
    if json_path:
        write_json(results, json_path)
