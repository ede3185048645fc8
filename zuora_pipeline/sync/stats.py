"""What a sync counts: one stats type, rendered by every consumer (the assets' metadata, the CLI's
rows and ``--json`` objects, the demo's and the bench's tables, the alerts).

The counter names are the fields of ``Stats``, in this order, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Stats:
    """Rows of one asset (or of the whole sync: its workflows) and what the sync cost."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    total: int = 0
    errors: int = 0
    api_calls: int = 0
    retries: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Stats:
        """From any mapping holding the counters (a sync record row); missing or null ones are 0."""
        return cls(**{key: int(values.get(key) or 0) for key in STAT_KEYS})


STAT_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Stats))
