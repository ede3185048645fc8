"""What one customer's sync hands back, as plain values: the assets it refreshed with what each
says about itself, the checks it evaluated, and how it ended.

The asset and check names are the sync's own (``workflow_pages``, ``pagination_complete``...); the
Dagster layer adds its key prefix and turns each into an event of the customer's partition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from zuora_pipeline.logic.stats import Stats

# The assets of a sync, in the order the stages refresh them. A run refreshing all four is a sync.
WORKFLOW_PAGES = "workflow_pages"
WORKFLOW_EXPORTS = "workflow_exports"
WORKFLOWS = "workflows"
WORKFLOW_TASKS = "workflow_tasks"
ASSETS = (WORKFLOW_PAGES, WORKFLOW_EXPORTS, WORKFLOWS, WORKFLOW_TASKS)


class Markdown(str):
    """Metadata text to be shown as Markdown."""


class Url(str):
    """Metadata text that is a link."""


@dataclass(frozen=True)
class Materialization:
    """An asset the sync refreshed for the customer, and its metadata (plain values: numbers,
    text, ``Markdown``, ``Url``, and lists or dicts shown as JSON)."""

    asset: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    metadata: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    warn_only: bool = False  # a failure is a warning, not an error


class FailureKind(Enum):
    """How a failed sync ends, by what waiting could do about it."""

    TRANSIENT = "transient"  # 5xx, timeouts, dropped connections, the warehouse's connection: retried
    DETERMINISTIC = "deterministic"  # it would fail the same way later: not retried
    CREDENTIALS = "credentials"  # Zuora refused the credentials: the customer is paused
    BLOCKED = "blocked"  # a blocking check failed: the stages it guards did not run
    INTERRUPTED = "interrupted"  # the sync was cancelled (Ctrl-C, SIGTERM, a canceled run)

    @property
    def retryable(self) -> bool:
        return self is FailureKind.TRANSIENT


@dataclass(frozen=True)
class SyncFailure:
    message: str  # one line, scrubbed of secrets
    kind: FailureKind
    error: BaseException | None = None  # the exception it came from, if any

    @property
    def retryable(self) -> bool:
        return self.kind.retryable


@dataclass
class CustomerResult:
    """One customer's part of a run, whatever it was asked to do."""

    customer: str
    materializations: list[Materialization] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failure: SyncFailure | None = None
    # The whole sync's stats (its workflows, export errors, API calls), when it was a sync that
    # reached the workflows stage.
    stats: Stats | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None
