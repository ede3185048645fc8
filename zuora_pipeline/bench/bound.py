"""The request lower bound of DESIGN.md §6.

One token, then pages one after another (each needs the previous page's ``next_page``), while
exports overlap the walk; all of them share at most C requests in flight.
"""

from __future__ import annotations

import math


def list_requests(workflows: int, page_length: int) -> int:
    """GET /workflows requests of a complete walk: the simulator omits ``next_page`` on the last
    full page, so this is ceil(N/P), and at least one page for an empty tenant."""
    return max(1, math.ceil(workflows / page_length))


def lower_bound_s(
    workflows: int, *, page_length: int, latency_s: float, concurrency: int, exports: int | None = None
) -> float:
    """``L + max((pages + 1) * L, (pages + exports) * L / C)`` with ``exports`` defaulting to N
    (DESIGN.md §6 counts one export per workflow; pass the exportable or changed count)."""
    pages = math.ceil(workflows / page_length)
    exports = workflows if exports is None else exports
    walk = (pages + 1) * latency_s
    throughput = (pages + exports) * latency_s / concurrency
    return latency_s + max(walk, throughput)


def list_only_bound_s(workflows: int, *, page_length: int, latency_s: float) -> float:
    """A sync that exports nothing: the token and the page walk."""
    return lower_bound_s(workflows, page_length=page_length, latency_s=latency_s, concurrency=1, exports=0)
