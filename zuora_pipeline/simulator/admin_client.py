"""Typed Python wrapper of the ``/__admin`` API. The rest of the project (tests, demo, bench)
codes against these exact methods, so their signatures are a contract."""

from __future__ import annotations

from dataclasses import dataclass
from types import EllipsisType
from typing import Any, Self
from urllib.parse import quote

import httpx


@dataclass(frozen=True)
class TenantInfo:
    name: str
    client_id: str
    client_secret: str
    workflows: int
    tasks: int


@dataclass(frozen=True)
class MutationResult:
    added: list[int]
    updated: list[int]
    deleted: list[int]


class SimulatorAdminError(RuntimeError):
    """The admin API refused a request (bad input, unknown tenant or workflow)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"simulator admin API {status}: {message}")
        self.status = status


class SimulatorAdmin:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- tenants and data --------------------------------------------------------------------

    def tenants(self) -> list[TenantInfo]:
        return [TenantInfo(**item) for item in self._call("GET", "/__admin/tenants")]

    def tenant(self, name: str) -> TenantInfo:
        return TenantInfo(**self._call("GET", f"/__admin/tenants/{_q(name)}"))

    def create_tenant(self, name: str, *, workflows: int, tasks: int, seed: int = 1) -> TenantInfo:
        body = {"name": name, "workflows": workflows, "tasks": tasks, "seed": seed}
        return TenantInfo(**self._call("POST", "/__admin/tenants", body))

    def truth(self, tenant: str) -> dict[int, dict]:
        raw = self._call("GET", f"/__admin/tenants/{_q(tenant)}/truth")
        return {int(key): value for key, value in raw.items()}

    def mutate(self, tenant: str, *, add: int = 0, update: int = 0, delete: int = 0, seed: int = 0) -> MutationResult:
        body = {"add": add, "update": update, "delete": delete, "seed": seed}
        return MutationResult(**self._call("POST", f"/__admin/tenants/{_q(tenant)}/mutate", body))

    def add_workflow(self, tenant: str, *, tasks: int = 3, active: bool = True, name: str | None = None) -> int:
        body = {"tasks": tasks, "active": active, "name": name}
        return int(self._call("POST", f"/__admin/tenants/{_q(tenant)}/workflows", body)["id"])

    def update_workflow(
        self,
        tenant: str,
        workflow_id: int,
        *,
        name: str | None = None,
        status: str | None = None,
        tasks: int | None = None,
    ) -> None:
        body = {"name": name, "status": status, "tasks": tasks}
        self._call("PATCH", f"/__admin/tenants/{_q(tenant)}/workflows/{int(workflow_id)}", body)

    def set_export(self, tenant: str, workflow_id: int, export: dict) -> None:
        """Edit a workflow: its active version serves ``export`` from now on (updatedAt moves)."""
        self._call("PUT", f"/__admin/tenants/{_q(tenant)}/workflows/{int(workflow_id)}/export", {"export": export})

    def copy_workflow(self, tenant: str, *, from_tenant: str, workflow_id: int) -> int:
        """Import a copy of another tenant's workflow (new ids, same content); returns its id."""
        body = {"from_tenant": from_tenant, "workflow_id": int(workflow_id)}
        return int(self._call("POST", f"/__admin/tenants/{_q(tenant)}/workflows/copy", body)["id"])

    def copy_tenant(self, tenant: str, to: str) -> TenantInfo:
        """A new tenant ``to`` holding a copy of every workflow of ``tenant``."""
        return TenantInfo(**self._call("POST", f"/__admin/tenants/{_q(tenant)}/copy", {"to": to}))

    def delete_workflow(self, tenant: str, workflow_id: int) -> None:
        self._call("DELETE", f"/__admin/tenants/{_q(tenant)}/workflows/{int(workflow_id)}")

    def revoke_tokens(self, tenant: str | None = None) -> None:
        self._call("POST", "/__admin/tokens/revoke", {"tenant": tenant})

    # ---- stats, limits, faults ---------------------------------------------------------------

    def stats(self) -> dict:
        return self._call("GET", "/__admin/stats")

    def reset_stats(self) -> None:
        self._call("POST", "/__admin/stats/reset")

    def set_limits(
        self,
        *,
        latency_ms: float | None = None,
        max_concurrency: int | EllipsisType | None = ...,
        retry_after: str | EllipsisType | None = ...,
        rate_per_minute: int | EllipsisType | None = ...,
        token_ttl: int | None = None,
    ) -> None:
        """Change only the limits passed. ``max_concurrency``/``rate_per_minute`` None means
        unlimited; ``retry_after`` None means 429s carry no Retry-After (RateLimit-Reset only)."""
        body: dict[str, Any] = {}
        if latency_ms is not None:
            body["latency_ms"] = latency_ms
        if max_concurrency is not ...:
            body["max_concurrency"] = max_concurrency
        if retry_after is not ...:
            body["retry_after"] = retry_after
        if rate_per_minute is not ...:
            body["rate_per_minute"] = rate_per_minute
        if token_ttl is not None:
            body["token_ttl"] = token_ttl
        self._call("POST", "/__admin/limits", body)

    def set_fault_rates(self, rates: dict[str, dict[str, float]], *, seed: int = 0, hang_s: float = 10.0) -> None:
        self._call("POST", "/__admin/faults/rates", {"rates": rates, "seed": seed, "hang_s": hang_s})

    def add_fault_rules(self, rules: list[dict]) -> None:
        self._call("POST", "/__admin/faults/rules", {"rules": rules})

    def clear_faults(self) -> None:
        self._call("DELETE", "/__admin/faults")

    def set_options(self, **options: Any) -> None:
        """page_length_over_max, last_page_next, no_active_version_repr, bad_credentials_status,
        retry_after_mode."""
        self._call("POST", "/__admin/options", options)

    def reset(self) -> None:
        self._call("POST", "/__admin/reset")

    def config(self) -> dict:
        return self._call("GET", "/__admin/config")

    def faults(self) -> dict:
        return self._call("GET", "/__admin/faults")

    # ---- transport ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise SimulatorAdminError(response.status_code, message)
        return response.json()


def _q(name: str) -> str:
    return quote(name, safe="")
