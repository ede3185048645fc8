"""``/__admin/*``: JSON endpoints that let tests and the demo inspect and steer the simulator.

Routes (all JSON; errors are ``{"error": "..."}`` with 400 for bad input, 404 for unknown names):

    GET    /__admin/health
    GET    /__admin/config
    GET    /__admin/tenants                          -> [TenantInfo]
    POST   /__admin/tenants                          {name, workflows, tasks, seed} -> TenantInfo
    GET    /__admin/tenants/{name}                   -> TenantInfo
    GET    /__admin/tenants/{name}/truth             -> {id: {list_item, export|null}}
    POST   /__admin/tenants/{name}/mutate            {add, update, delete, seed} -> {added, updated, deleted}
    POST   /__admin/tenants/{name}/workflows         {tasks, active, name} -> {id}
    PATCH  /__admin/tenants/{name}/workflows/{id}    {name?, status?, tasks?}
    DELETE /__admin/tenants/{name}/workflows/{id}
    PUT    /__admin/tenants/{name}/workflows/{id}/export   {export} (an edit: tasks, linkages, settings)
    POST   /__admin/tenants/{name}/workflows/copy   {from_tenant, workflow_id} -> {id}
    POST   /__admin/tenants/{name}/copy             {to} -> TenantInfo (a new tenant copying every workflow)
    POST   /__admin/tokens/revoke                    {tenant: name|null} -> {revoked}
    GET    /__admin/stats
    POST   /__admin/stats/reset
    POST   /__admin/limits                           {latency_ms?, max_concurrency?, retry_after?, rate_per_minute?, token_ttl?}
    POST   /__admin/options                          {page_length_over_max?, last_page_next?, ...}
    GET    /__admin/faults
    POST   /__admin/faults/rates                     {rates, seed, hang_s}
    POST   /__admin/faults/rules                     {rules: [...]}
    DELETE /__admin/faults
    POST   /__admin/reset
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from zuora_pipeline.simulator import render
from zuora_pipeline.simulator.asgi import (
    Receive,
    Reply,
    Request,
    Send,
    read_body,
    send_reply,
)
from zuora_pipeline.simulator.state import SimulatorState
from zuora_pipeline.simulator.tenant import Tenant

TENANT_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
Handler = Callable[[SimulatorState, dict[str, str], Any], Any]


def tenant_info(tenant: Tenant) -> dict[str, Any]:
    return {
        "name": tenant.name,
        "client_id": tenant.client_id,
        "client_secret": tenant.client_secret,
        "workflows": len(tenant.order),
        "tasks": tenant.mean_tasks,
    }


def _health(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    return {"ok": True}


def _config(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    return state.config.to_json()


def _tenants(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    return [tenant_info(t) for t in state.tenants.values()]


def _create_tenant(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    name = str(body.get("name", ""))
    if not TENANT_NAME_RE.fullmatch(name):
        raise ValueError(f"invalid tenant name {name!r}: use letters, digits, '_', '.', '-'")
    tenant = state.create_tenant(
        name, workflows=int(body.get("workflows", 20)), tasks=int(body.get("tasks", 5)), seed=int(body.get("seed", 1))
    )
    return tenant_info(tenant)


def _tenant(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    return tenant_info(state.tenant(params["name"]))


def _truth(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    return state.tenant(params["name"]).truth_bytes(state.config.no_active_version_repr)


def _mutate(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    outcome = state.tenant(params["name"]).mutate(
        add=int(body.get("add", 0)),
        update=int(body.get("update", 0)),
        delete=int(body.get("delete", 0)),
        seed=int(body.get("seed", 0)),
    )
    return {"added": outcome.added, "updated": outcome.updated, "deleted": outcome.deleted}


def _add_workflow(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    tasks = int(body.get("tasks", 3))
    if tasks < 0:
        raise ValueError("tasks must be >= 0")
    workflow_id = state.tenant(params["name"]).add_workflow(
        tasks=tasks, active=bool(body.get("active", True)), name=body.get("name")
    )
    return {"id": workflow_id}


def _update_workflow(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    tenant = state.tenant(params["name"])
    workflow_id = int(params["id"])
    if workflow_id not in tenant.definitions:
        raise LookupError(f"unknown workflow {workflow_id} in {tenant.name}")
    tasks = body.get("tasks")
    if tasks is not None and int(tasks) < 0:
        raise ValueError("tasks must be >= 0")
    tenant.update_workflow(
        workflow_id, name=body.get("name"), status=body.get("status"), tasks=None if tasks is None else int(tasks)
    )
    return {"id": workflow_id}


def _delete_workflow(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    tenant = state.tenant(params["name"])
    workflow_id = int(params["id"])
    if workflow_id not in tenant.definitions:
        raise LookupError(f"unknown workflow {workflow_id} in {tenant.name}")
    tenant.delete_workflow(workflow_id)
    return {"success": True, "id": workflow_id}


def _set_export(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    tenant = state.tenant(params["name"])
    workflow_id = int(params["id"])
    if workflow_id not in tenant.definitions:
        raise LookupError(f"unknown workflow {workflow_id} in {tenant.name}")
    tenant.set_export(workflow_id, body.get("export"))
    return {"id": workflow_id}


def _copy_workflow(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    target = state.tenant(params["name"])
    source = state.tenant(str(body.get("from_tenant", "")))
    workflow_id = int(body.get("workflow_id", 0))
    if workflow_id not in source.definitions:
        raise LookupError(f"unknown workflow {workflow_id} in {source.name}")
    return {"id": target.copy_workflow_from(source, workflow_id)}


def _copy_tenant(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    name = str(body.get("to", ""))
    if not TENANT_NAME_RE.fullmatch(name):
        raise ValueError(f"invalid tenant name {name!r}: use letters, digits, '_', '.', '-'")
    return tenant_info(state.copy_tenant(params["name"], name))


def _revoke(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    name = body.get("tenant")
    if name is not None:
        state.tenant(name)
    return {"revoked": state.tokens.revoke(name)}


def _stats(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    return state.stats.snapshot()


def _reset_stats(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    state.stats.reset()
    return {"ok": True}


def _limits(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    state.set_limits(dict(body))
    return state.config.to_json()


def _options(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    state.set_options(dict(body))
    return state.config.to_json()


def _faults(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    return state.faults.to_json()


def _fault_rates(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    state.faults.set_rates(body.get("rates", {}), seed=int(body.get("seed", 0)), hang_s=float(body.get("hang_s", 10.0)))
    return state.faults.to_json()


def _fault_rules(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    rules = body.get("rules")
    if not isinstance(rules, list):
        raise TypeError('body must be {"rules": [...]}')
    state.faults.add_rules(rules)
    return state.faults.to_json()


def _clear_faults(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    state.faults.clear()
    return {"ok": True}


def _reset(state: SimulatorState, params: dict[str, str], body: Any) -> Any:
    state.reset()
    return {"ok": True}


_T = r"(?P<name>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile(pattern), handler)
    for method, pattern, handler in (
        ("GET", r"/__admin/health", _health),
        ("GET", r"/__admin/config", _config),
        ("GET", r"/__admin/tenants", _tenants),
        ("POST", r"/__admin/tenants", _create_tenant),
        ("GET", rf"/__admin/tenants/{_T}", _tenant),
        ("GET", rf"/__admin/tenants/{_T}/truth", _truth),
        ("POST", rf"/__admin/tenants/{_T}/mutate", _mutate),
        ("POST", rf"/__admin/tenants/{_T}/workflows", _add_workflow),
        ("PATCH", rf"/__admin/tenants/{_T}/workflows/(?P<id>\d+)", _update_workflow),
        ("PUT", rf"/__admin/tenants/{_T}/workflows/(?P<id>\d+)/export", _set_export),
        ("POST", rf"/__admin/tenants/{_T}/workflows/copy", _copy_workflow),
        ("POST", rf"/__admin/tenants/{_T}/copy", _copy_tenant),
        ("DELETE", rf"/__admin/tenants/{_T}/workflows/(?P<id>\d+)", _delete_workflow),
        ("POST", r"/__admin/tokens/revoke", _revoke),
        ("GET", r"/__admin/stats", _stats),
        ("POST", r"/__admin/stats/reset", _reset_stats),
        ("POST", r"/__admin/limits", _limits),
        ("POST", r"/__admin/options", _options),
        ("GET", r"/__admin/faults", _faults),
        ("POST", r"/__admin/faults/rates", _fault_rates),
        ("POST", r"/__admin/faults/rules", _fault_rules),
        ("DELETE", r"/__admin/faults", _clear_faults),
        ("POST", r"/__admin/reset", _reset),
    )
]


class AdminApi:
    def __init__(self, state: SimulatorState) -> None:
        self.state = state

    async def __call__(self, request: Request, receive: Receive, send: Send) -> None:
        reply = await self._dispatch(request, receive)
        await send_reply(send, request, reply)

    async def _dispatch(self, request: Request, receive: Receive) -> Reply:
        path = request.path.rstrip("/")
        path_matched = False
        for method, pattern, handler in ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            path_matched = True
            if method != request.method:
                continue
            try:
                raw = await read_body(receive)
                body = json.loads(raw) if raw.strip() else {}
                if not isinstance(body, dict):
                    raise TypeError("request body must be a JSON object")
                result = handler(self.state, match.groupdict(), body)
            except LookupError as exc:
                return Reply(404, render.dumps({"error": str(exc).strip("'\"")}))
            except (ValueError, TypeError) as exc:
                return Reply(400, render.dumps({"error": str(exc)}))
            return Reply(200, result if isinstance(result, bytes) else render.dumps(result))
        if path_matched:
            return Reply(405, render.dumps({"error": f"method {request.method} not allowed on {path}"}))
        return Reply(404, render.dumps({"error": f"no admin route {path}"}))
