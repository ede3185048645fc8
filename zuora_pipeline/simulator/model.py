"""In-memory records of one tenant's workflow definitions and their versions.

Only metadata is kept eagerly; an export's tasks are derived from ``content_seed`` on demand
(see ``exports.py``), which keeps 10,000-workflow tenants cheap to create.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Version:
    """One version (a ``Workflow::Setup``) of a definition; its id differs from the definition id."""

    id: int
    version: str
    name: str
    description: str
    priority: str
    callout_trigger: bool
    ondemand_trigger: bool
    scheduled_trigger: bool
    interval: str | None
    timezone: str | None
    created_at: int  # epoch milliseconds
    updated_at: int
    task_count: int
    task_id_base: int  # task ids are task_id_base .. task_id_base + task_count - 1
    content_seed: int  # seeds the RNG that derives tasks, parameters and linkages
    # An export set by the admin API (an edited or copied workflow): served instead of the derived one.
    export_override: dict | None = None


@dataclass(slots=True)
class WorkflowDef:
    """A workflow definition as listed by ``GET /workflows``."""

    id: int
    name: str
    description: str
    status: str  # "Active" | "Inactive"
    priority: str
    callout_trigger: bool
    ondemand_trigger: bool
    scheduled_trigger: bool
    interval: str | None
    timezone: str | None
    created_at: int
    updated_at: int
    versions: list[Version] = field(default_factory=list)  # ascending id
    active_version_id: int | None = None

    def active_version(self) -> Version | None:
        if self.active_version_id is None:
            return None
        for version in self.versions:
            if version.id == self.active_version_id:
                return version
        return None

    def latest_version(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    def find_version(self, version: str) -> Version | None:
        for candidate in self.versions:
            if candidate.version == version:
                return candidate
        return None

    def next_version_string(self) -> str:
        return f"0.0.{len(self.versions) + 1}"
