"""The ASGI application: ``/__admin/*`` goes to the admin API, everything else to the fake Zuora."""

from __future__ import annotations

from zuora_pipeline.simulator.admin_api import AdminApi
from zuora_pipeline.simulator.api import WorkflowApi
from zuora_pipeline.simulator.asgi import Receive, Request, Scope, Send
from zuora_pipeline.simulator.state import SimulatorState


class SimulatorApp:
    def __init__(self, state: SimulatorState) -> None:
        self.state = state
        self._api = WorkflowApi(state)
        self._admin = AdminApi(state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request.from_scope(scope)
        if request.path.startswith("/__admin"):
            await self._admin(request, receive, send)
        else:
            await self._api(request, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to set up: state is built before the server starts, so tenants exist at bind time.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
