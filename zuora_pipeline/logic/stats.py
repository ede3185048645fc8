"""What a sync counts: one stats type, rendered by every consumer (the assets' metadata, the CLI's
rows and ``--json`` objects, the demo's and the bench's tables, the alerts).

The counter names are the fields of ``Stats``, in this order, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

_ROWS = {"rows": True}  # a count of the asset's rows (the others count what the sync cost)


@dataclass(frozen=True)
class Stats:
    """Rows of one asset (or of the whole sync: its workflows) and what the sync cost."""

    created: int = field(default=0, metadata=_ROWS)
    updated: int = field(default=0, metadata=_ROWS)
    unchanged: int = field(default=0, metadata=_ROWS)
    deleted: int = field(default=0, metadata=_ROWS)
    total: int = field(default=0, metadata=_ROWS)
    errors: int = 0
    api_calls: int = 0
    retries: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def row_counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.metadata.get("rows")}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Stats:
        """From any mapping holding the counters (a sync record row); missing or null ones are 0."""
        return cls(**{key: int(values.get(key) or 0) for key in STAT_KEYS})


STAT_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Stats))
