"""Everything a running simulator knows: the live config, tenants, tokens, faults and stats."""

from __future__ import annotations

import dataclasses
from typing import Any

from zuora_pipeline.simulator.auth import TokenRegistry
from zuora_pipeline.simulator.config import LIMIT_FIELDS, OPTION_FIELDS, SimulatorConfig
from zuora_pipeline.simulator.faults import FaultPlan
from zuora_pipeline.simulator.limits import RateWindows
from zuora_pipeline.simulator.stats import Stats
from zuora_pipeline.simulator.tenant import Tenant


class SimulatorState:
    def __init__(self, config: SimulatorConfig) -> None:
        self.initial_config = config
        self.config = config
        self.tenants: dict[str, Tenant] = {}
        self._by_client_id: dict[str, Tenant] = {}
        self._tenant_numbers: dict[str, int] = {}
        for number in range(1, config.tenants + 1):
            self.create_tenant(f"tenant-{number}", workflows=config.workflows, tasks=config.tasks, seed=config.seed)
        self.tokens = TokenRegistry()
        self.faults = FaultPlan()
        self.faults.set_rates(config.fault_rates, seed=config.fault_seed, hang_s=config.hang_s)
        self.stats = Stats()
        self.rates = RateWindows()

    def create_tenant(self, name: str, *, workflows: int, tasks: int, seed: int) -> Tenant:
        if not name or name in self.tenants:
            raise ValueError(f"tenant {name!r} already exists" if name else "tenant name is empty")
        if workflows < 0 or tasks < 0:
            raise ValueError("workflows and tasks must be >= 0")
        tenant = Tenant(name, workflows=workflows, tasks=tasks, seed=seed)
        if tenant.client_id in self._by_client_id:  # same name+seed cannot happen; guard anyway
            raise ValueError(f"tenant {name!r} would reuse an existing client_id")
        self.tenants[name] = tenant
        self._by_client_id[tenant.client_id] = tenant
        self._tenant_numbers[name] = len(self._tenant_numbers) + 1
        return tenant

    def copy_tenant(self, source_name: str, name: str) -> Tenant:
        """A new tenant holding a copy of every workflow of ``source_name`` (new ids, same
        content): a sandbox refreshed from production."""
        source = self.tenant(source_name)
        tenant = self.create_tenant(name, workflows=0, tasks=source.mean_tasks, seed=source.seed)
        # Ids far from the source's, so nothing can pair the copies by id by accident.
        tenant.ids.next_workflow_id = 10 * source.ids.next_workflow_id + 1_000_000
        tenant.ids.next_task_id = 10 * source.ids.next_task_id + 10_000_000
        for workflow_id in source.order:
            tenant.copy_workflow_from(source, workflow_id)
        return tenant

    def tenant(self, name: str) -> Tenant:
        try:
            return self.tenants[name]
        except KeyError:
            raise LookupError(f"unknown tenant {name!r}") from None

    def tenant_by_client_id(self, client_id: str) -> Tenant | None:
        return self._by_client_id.get(client_id)

    def tenant_number(self, name: str) -> int:
        return self._tenant_numbers.get(name, 0)

    def update_config(self, changes: dict[str, Any], allowed: tuple[str, ...]) -> None:
        unknown = set(changes) - set(allowed)
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)} here; allowed: {list(allowed)}")
        self.config = dataclasses.replace(self.config, **changes)  # __post_init__ validates

    def set_limits(self, changes: dict[str, Any]) -> None:
        changes = dict(changes)
        # retry_after=None means "send no Retry-After header" (RateLimit-Reset only).
        if "retry_after" in changes:
            if changes["retry_after"] is None:
                changes.pop("retry_after")
                changes["retry_after_mode"] = "absent"
            else:
                changes["retry_after"] = str(changes["retry_after"])
                changes["retry_after_mode"] = "header"
        self.update_config(changes, (*LIMIT_FIELDS, "retry_after_mode"))

    def set_options(self, changes: dict[str, Any]) -> None:
        self.update_config(changes, OPTION_FIELDS)

    def reset(self) -> None:
        """Clear faults and stats and restore the start-up limits and options; tenants and
        tokens are kept."""
        self.config = dataclasses.replace(self.initial_config, fault_rates={})
        self.faults.clear()
        self.stats.reset()
        self.rates.clear()
