"""What the client hands back: pages kept raw for storage, exports as raw bytes plus parsed forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .models import ExportModel, WorkflowListItem, parse_export


@dataclass(frozen=True)
class FetchedPage:
    """One list page as fetched, before the walk's checks (which run in page order)."""

    number: int
    url: str
    body: dict[str, Any] = field(repr=False)
    items: list[WorkflowListItem] = field(repr=False)
    raw_next: str | None  # the stripped `next_page` string, None when missing/null/blank

    @property
    def continues(self) -> bool:
        """Whether the listing says there is a page after this one."""
        return bool(self.items) and self.raw_next is not None


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
    task_ids: list[int] = field(repr=False)  # as ExportModel reads them, in order

    @cached_property
    def model(self) -> ExportModel:
        """The parsed export, built on first use: the client has validated ``data`` already, and
        a sync needs only ``task_ids``."""
        return parse_export(self.data, workflow_id=self.workflow_id)
