"""Two tenants' workflows side by side: only in A, only in B, identical, differing (no I/O).

Workflows are matched by name (exact, case-sensitive): ids differ between tenants. When a name
occurs more than once on either side, the workflows of that name are paired by content: every
pairing is diffed, the pair with the fewest differences is taken first (ties: the older workflows
first, by Zuora's creation time then id), and so on; the ones left over are reported as only in
their tenant. Tasks inside a pair are matched by graph position, action type and name, never by
id (see workflow_diff).

Exports are fetched through ``load`` in batches, so two 10,000-workflow tenants are compared
without holding every export in memory at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zuora_pipeline.logic.workflow_diff import WorkflowChanges, diff_states

BATCH = 200


@dataclass(frozen=True)
class Listed:
    """A live workflow of one side, without its export."""

    zuora_id: int
    name: str
    state: str | None
    created_on: datetime | None

    def order(self) -> tuple[Any, ...]:
        return (self.created_on is None, self.created_on or datetime.min, self.zuora_id)

    def to_json(self) -> dict[str, Any]:
        return {"workflow_id": self.zuora_id, "name": self.name}


@dataclass(frozen=True)
class Pair:
    a: Listed
    b: Listed
    changes: WorkflowChanges

    def to_json(self, *, with_changes: bool) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.a.name,
            "a_workflow_id": self.a.zuora_id,
            "b_workflow_id": self.b.zuora_id,
        }
        if with_changes:
            document["summary"] = self.changes.summary()
            document["changes"] = self.changes.to_json()
        return document


@dataclass
class TenantComparison:
    only_in_a: list[Listed] = field(default_factory=list)
    only_in_b: list[Listed] = field(default_factory=list)
    identical: list[Pair] = field(default_factory=list)
    differing: list[Pair] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.only_in_a or self.only_in_b or self.differing)

    def to_json(self) -> dict[str, Any]:
        return {
            "identical": self.same,
            "counts": {
                "only_in_a": len(self.only_in_a),
                "only_in_b": len(self.only_in_b),
                "identical": len(self.identical),
                "differing": len(self.differing),
            },
            "only_in_a": [w.to_json() for w in self.only_in_a],
            "only_in_b": [w.to_json() for w in self.only_in_b],
            "identical_workflows": [p.to_json(with_changes=False) for p in self.identical],
            "differing": [p.to_json(with_changes=True) for p in self.differing],
        }


# load(side, zuora_ids) -> {zuora_id: export}; side is "a" or "b".
Loader = Callable[[str, Sequence[int]], Mapping[int, Any]]


def _size(changes: WorkflowChanges) -> int:
    return sum(changes.counts().values())


def _diff(a: Listed, b: Listed, a_export: Any, b_export: Any) -> WorkflowChanges:
    return diff_states(a_export, b_export, old_state=a.state, new_state=b.state, by_id=False)


def _pair_duplicates(
    a_group: Sequence[Listed], b_group: Sequence[Listed], exports_a: Mapping[int, Any], exports_b: Mapping[int, Any]
) -> tuple[list[Pair], list[Listed], list[Listed]]:
    a_sorted, b_sorted = sorted(a_group, key=Listed.order), sorted(b_group, key=Listed.order)
    candidates = []
    for i, a in enumerate(a_sorted):
        for j, b in enumerate(b_sorted):
            changes = _diff(a, b, exports_a.get(a.zuora_id), exports_b.get(b.zuora_id))
            candidates.append((_size(changes), i, j, changes))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs: list[Pair] = []
    for _, i, j, changes in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append(Pair(a_sorted[i], b_sorted[j], changes))
    only_a = [a for i, a in enumerate(a_sorted) if i not in used_a]
    only_b = [b for j, b in enumerate(b_sorted) if j not in used_b]
    return pairs, only_a, only_b


def _batches(
    groups: list[tuple[str, list[Listed], list[Listed]]],
) -> Iterable[list[tuple[str, list[Listed], list[Listed]]]]:
    batch: list[tuple[str, list[Listed], list[Listed]]] = []
    size = 0
    for group in groups:
        batch.append(group)
        size += len(group[1]) + len(group[2])
        if size >= BATCH:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def compare_tenants(a: Sequence[Listed], b: Sequence[Listed], load: Loader) -> TenantComparison:
    by_name_a: dict[str, list[Listed]] = defaultdict(list)
    by_name_b: dict[str, list[Listed]] = defaultdict(list)
    for w in a:
        by_name_a[w.name].append(w)
    for w in b:
        by_name_b[w.name].append(w)
    result = TenantComparison()
    shared: list[tuple[str, list[Listed], list[Listed]]] = []
    for name in sorted(set(by_name_a) | set(by_name_b)):
        left, right = by_name_a.get(name, []), by_name_b.get(name, [])
        if not right:
            result.only_in_a.extend(sorted(left, key=Listed.order))
        elif not left:
            result.only_in_b.extend(sorted(right, key=Listed.order))
        else:
            shared.append((name, left, right))
    for batch in _batches(shared):
        exports_a = load("a", [w.zuora_id for _, left, _ in batch for w in left])
        exports_b = load("b", [w.zuora_id for _, _, right in batch for w in right])
        for _, left, right in batch:
            pairs, only_a, only_b = _pair_duplicates(left, right, exports_a, exports_b)
            result.only_in_a.extend(only_a)
            result.only_in_b.extend(only_b)
            for pair in pairs:
                (result.differing if not pair.changes.identical else result.identical).append(pair)
    return result
