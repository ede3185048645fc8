"""Deterministic generation of a tenant's workflow definitions (metadata only).

Same (seed, tenant name, scale) => identical definitions, ids and timestamps: every random
choice comes from one ``random.Random`` seeded with a string, which Python hashes stably
(unlike ``hash()``, it does not depend on PYTHONHASHSEED).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from zuora_pipeline.simulator import catalog
from zuora_pipeline.simulator.model import Version, WorkflowDef

START_MS = 1_546_300_800_000  # 2019-01-01T00:00:00Z: seeded history starts here
END_MS = 1_748_736_000_000  # 2025-06-01T00:00:00Z: and ends here, so "now" is always later
NO_ACTIVE_RATE = 0.05
MAX_VERSIONS_SHOWN = 10  # latest_inactive_verisons holds at most 10 entries


@dataclass(slots=True)
class IdSequences:
    """Per-tenant id counters. Definitions and versions share one sequence, like Zuora's
    example (definition 48, active version 49, inactive version 50); tasks have their own."""

    next_workflow_id: int = 1001
    next_task_id: int = 50_001

    def workflow_id(self) -> int:
        value = self.next_workflow_id
        self.next_workflow_id += 1
        return value

    def task_block(self, count: int) -> int:
        base = self.next_task_id
        self.next_task_id += max(count, 0)
        return base


def now_ms() -> int:
    return int(time.time() * 1000)


def task_count_around(rng: random.Random, mean: int) -> int:
    if mean <= 0:
        return 0
    spread = max(1, mean // 2)
    return rng.randint(max(0, mean - spread), mean + spread)


def generate_definitions(rng: random.Random, ids: IdSequences, workflows: int, tasks: int) -> list[WorkflowDef]:
    """Build ``workflows`` definitions whose active versions average ``tasks`` tasks.

    Fixed positions guarantee the edge cases tests rely on: index 1 has 0 tasks, index 2 has no
    active version, index 3 has 12 versions (more than the 10 the list shows) and, at scale,
    one definition has 60 tasks.
    """
    zero_index = 1 if workflows >= 2 else None
    no_active_index = 2 if workflows >= 3 else None
    many_versions_index = 3 if workflows >= 4 else None
    big_index = workflows // 2 if tasks >= 10 and workflows >= 20 else None
    span = max(1, (END_MS - START_MS) // max(workflows, 1))
    result: list[WorkflowDef] = []
    for index in range(workflows):
        created = START_MS + index * span + rng.randrange(span // 2 + 1)
        if index == zero_index:
            active_tasks = 0
        elif index == big_index:
            active_tasks = 60
        else:
            active_tasks = task_count_around(rng, tasks)
        if index == many_versions_index:
            n_versions = 12
        else:
            n_versions = rng.choices((1, 2, 3, 4), weights=(50, 30, 12, 8))[0]
        has_active = index != no_active_index and (index in (zero_index, big_index) or rng.random() >= NO_ACTIVE_RATE)
        result.append(
            new_definition(
                rng,
                ids,
                created=created,
                n_versions=n_versions,
                active_tasks=active_tasks,
                mean_tasks=tasks,
                has_active=has_active,
                horizon=min(END_MS, created + span * 4),
            )
        )
    return result


def new_definition(
    rng: random.Random,
    ids: IdSequences,
    *,
    created: int,
    n_versions: int,
    active_tasks: int,
    mean_tasks: int,
    has_active: bool,
    horizon: int,
    name: str | None = None,
) -> WorkflowDef:
    scheduled = rng.random() < 0.12
    unset = rng.choice((None, ""))  # Zuora shows both null and "" for "no schedule"
    definition = WorkflowDef(
        id=ids.workflow_id(),
        name=name if name is not None else random_name(rng),
        description=rng.choice(catalog.DESCRIPTIONS),
        status="Inactive",
        priority=rng.choice(catalog.PRIORITIES),
        callout_trigger=rng.random() < 0.6,
        ondemand_trigger=rng.random() < 0.8,
        scheduled_trigger=scheduled,
        interval=rng.choice(catalog.CRON_INTERVALS) if scheduled else unset,
        timezone=rng.choice(catalog.RAILS_TIMEZONES) if scheduled else unset,
        created_at=created,
        updated_at=created,
    )
    # The active version is usually the newest, sometimes an older one with newer drafts after it.
    active_index = None
    if has_active:
        active_index = n_versions - 1 if rng.random() < 0.8 else rng.randrange(n_versions)
    stamp = created
    for position in range(n_versions):
        stamp = min(max(stamp + rng.randrange(1, 86_400_000 * 30), stamp + 1), max(horizon, stamp + 1))
        count = active_tasks if position == active_index else task_count_around(rng, mean_tasks)
        if active_index is None and position == n_versions - 1:
            count = active_tasks  # so version=latest of a never-activated workflow still has the planned size
        definition.versions.append(new_version(rng, ids, definition, count, created=stamp))
    if active_index is not None:
        definition.active_version_id = definition.versions[active_index].id
        definition.status = "Active" if rng.random() < 0.85 else "Inactive"
    definition.updated_at = max(stamp, definition.created_at) + rng.randrange(1000)
    return definition


def new_version(
    rng: random.Random, ids: IdSequences, definition: WorkflowDef, task_count: int, *, created: int
) -> Version:
    return Version(
        id=ids.workflow_id(),
        version=definition.next_version_string(),
        name=definition.name,
        description=definition.description,
        priority=definition.priority,
        callout_trigger=definition.callout_trigger,
        ondemand_trigger=definition.ondemand_trigger,
        scheduled_trigger=definition.scheduled_trigger,
        interval=definition.interval,
        timezone=definition.timezone,
        created_at=created,
        updated_at=created,
        task_count=task_count,
        task_id_base=ids.task_block(task_count),
        content_seed=rng.getrandbits(63),
    )


def random_name(rng: random.Random) -> str:
    base = rng.choice(catalog.WORKFLOW_NAMES)
    return base if rng.random() < 0.5 else f"{base} #{rng.randrange(1, 1000)}"
