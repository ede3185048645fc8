"""A Zuora-compatible HTTP simulator (OAuth + read-only Workflow API) with fault injection and an
admin API, for the demo, the test-suite and benchmarks. It is deliberately independent of
``zuora_pipeline.zuora`` (the client it exercises)."""

from zuora_pipeline.simulator.admin_client import (
    MutationResult,
    SimulatorAdmin,
    TenantInfo,
)
from zuora_pipeline.simulator.config import SimulatorConfig

__all__ = ["MutationResult", "SimulatorAdmin", "SimulatorConfig", "SimulatorHandle", "TenantInfo", "run_simulator"]


def __getattr__(name: str) -> object:
    # The server pulls in uvicorn; import it only when someone asks for it.
    if name in ("SimulatorHandle", "run_simulator"):
        from zuora_pipeline.simulator import server

        return getattr(server, name)
    raise AttributeError(name)
