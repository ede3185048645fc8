"""What the client hands back: pages kept raw for storage, exports as raw bytes plus parsed forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ZuoraError
from .models import ExportModel, WorkflowListItem


@dataclass(frozen=True)
class WorkflowPage:
    number: int  # 1-based position in this walk
    url: str  # the URL requested (absolute)
    body: dict[str, Any] = field(repr=False)  # the decoded JSON, stored raw
    items: list[WorkflowListItem] = field(repr=False)
    next_page: str | None  # absolute, checked URL of the next page, None on the last page


@dataclass(frozen=True)
class WorkflowExport:
    workflow_id: int  # the definition id we asked for (model.workflow.id is the version id)
    content: bytes = field(repr=False)  # the decompressed body exactly as received
    data: dict[str, Any] = field(repr=False)
    model: ExportModel = field(repr=False)


@dataclass(frozen=True)
class ExportOutcome:
    workflow_id: int
    export: WorkflowExport | None
    error: ZuoraError | None

    @property
    def ok(self) -> bool:
        return self.error is None
