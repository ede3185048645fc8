"""Fault injection: random faults at configured rates, and scripted rules that hit exactly the
requests a test names ("the 2nd and 3rd export of workflow 1005 of tenant-1 answer 500").

Rules are evaluated in order; a rule *sees* every request it matches (endpoint, tenant,
workflow id, page, and that the fault makes sense for the endpoint), skips the first
``after`` of them, then fires on the next ``times``. The first rule that fires wins and later
rules do not see that request. Scripted rules take precedence over rates.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zuora_pipeline.simulator.config import (
    FAULT_ENDPOINTS,
    FAULT_KINDS,
    validate_fault_rates,
)

# Which endpoints a fault kind means something on; "any" rules and rates skip the others.
_ONLY_ON: dict[str, frozenset[str]] = {
    "empty": frozenset({"list"}),
    "mutate": frozenset({"list"}),
    "loop": frozenset({"list"}),
    "404": frozenset({"get", "export", "versions"}),
}


def applicable(kind: str, endpoint: str) -> bool:
    allowed = _ONLY_ON.get(kind)
    return allowed is None or endpoint in allowed


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    mutation: Mapping[str, int] = field(default_factory=dict)  # for "mutate": {"add": k, "delete": k}


@dataclass(slots=True)
class FaultRule:
    endpoint: str
    fault: str
    times: int = 1
    after: int = 0
    tenant: str | None = None
    workflow_id: int | None = None
    page: int | None = None
    mutation: dict[str, int] = field(default_factory=lambda: {"add": 1, "delete": 1})
    seen: int = 0
    fired: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        allowed = {"endpoint", "fault", "times", "after", "tenant", "workflow_id", "page", "mutation"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault rule keys: {sorted(unknown)}")
        endpoint = str(data.get("endpoint", "any"))
        fault = str(data["fault"])
        if endpoint not in FAULT_ENDPOINTS:
            raise ValueError(f"unknown fault endpoint {endpoint!r}; choose from {FAULT_ENDPOINTS}")
        if fault not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault!r}; choose from {FAULT_KINDS}")
        if endpoint != "any" and not applicable(fault, endpoint):
            raise ValueError(f"fault {fault!r} does not apply to endpoint {endpoint!r}")
        rule = cls(
            endpoint=endpoint,
            fault=fault,
            times=int(data.get("times", 1)),
            after=int(data.get("after", 0)),
            tenant=data.get("tenant"),
            workflow_id=None if data.get("workflow_id") is None else int(data["workflow_id"]),
            page=None if data.get("page") is None else int(data["page"]),
        )
        if data.get("mutation") is not None:
            rule.mutation = {k: int(v) for k, v in dict(data["mutation"]).items()}
        if rule.times < 1 or rule.after < 0:
            raise ValueError("times must be >= 1 and after >= 0")
        return rule

    def matches(self, endpoint: str, tenant: str | None, workflow_id: int | None, page: int | None) -> bool:
        return (
            (self.endpoint == "any" or self.endpoint == endpoint)
            and applicable(self.fault, endpoint)
            and (self.tenant is None or self.tenant == tenant)
            and (self.workflow_id is None or self.workflow_id == workflow_id)
            and (self.page is None or self.page == page)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "fault": self.fault,
            "times": self.times,
            "after": self.after,
            "tenant": self.tenant,
            "workflow_id": self.workflow_id,
            "page": self.page,
            "mutation": self.mutation,
            "seen": self.seen,
            "fired": self.fired,
        }


class FaultPlan:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.rates: dict[str, dict[str, float]] = {}
        self.hang_s = 10.0
        self._rng = random.Random(0)

    def set_rates(self, rates: Mapping[str, Mapping[str, float]], *, seed: int = 0, hang_s: float = 10.0) -> None:
        validate_fault_rates(rates)
        self.rates = {ep: {k: float(p) for k, p in kinds.items() if float(p) > 0} for ep, kinds in rates.items()}
        self._rng = random.Random(seed)
        self.hang_s = hang_s

    def add_rules(self, rules: list[Mapping[str, Any]]) -> None:
        parsed = [FaultRule.from_json(rule) for rule in rules]  # all-or-nothing on a bad rule
        self.rules.extend(parsed)

    def clear(self) -> None:
        self.rules.clear()
        self.rates = {}
        self._rng = random.Random(0)
        self.hang_s = 10.0

    def decide(
        self, endpoint: str, tenant: str | None, workflow_id: int | None = None, page: int | None = None
    ) -> Fault | None:
        for rule in self.rules:
            if not rule.matches(endpoint, tenant, workflow_id, page):
                continue
            rule.seen += 1
            if rule.seen > rule.after and rule.fired < rule.times:
                rule.fired += 1
                return Fault(rule.fault, rule.mutation)
        if not self.rates:
            return None
        candidates = [
            (kind, prob)
            for source in (self.rates.get(endpoint), self.rates.get("any"))
            if source
            for kind, prob in source.items()
            if applicable(kind, endpoint)
        ]
        if not candidates:
            return None
        draw = self._rng.random()
        for kind, prob in candidates:
            if draw < prob:
                return Fault(kind, {"add": 1, "delete": 1})
            draw -= prob
        return None

    def to_json(self) -> dict[str, Any]:
        return {"rates": self.rates, "hang_s": self.hang_s, "rules": [rule.to_json() for rule in self.rules]}
