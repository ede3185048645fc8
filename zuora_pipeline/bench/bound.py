"""The request lower bound of a sync: what its requests cost at latency L with C in flight.

Every request takes at least one L and at most C run at once. A first sync (no stored listing)
walks the pages one after another (each needs the previous page's ``next_page``) while exports
overlap the walk. A re-sync knows the last listing's length, so it requests all its pages at once
(sync/fetch.py).
"""

from __future__ import annotations

import math


def lower_bound_s(
    workflows: int,
    *,
    page_length: int,
    latency_s: float,
    concurrency: int,
    exports: int | None = None,
    stored_listing: bool = False,
) -> float:
    """``L + max(walk, (list requests + exports) * L / C)``, ``exports`` defaulting to N (one per
    workflow; pass the exportable or changed count).

    The leading L is the token: every other request needs it. Without a stored listing the walk
    is ``(pages + 1) * L``: the pages in sequence, and the last exports, which can only start once
    the last page has listed them, one L after it. With one (``stored_listing``), the walk
    requests the ``pages`` it expects and one more (in case the listing grew by a page) at once:
    ``pages + 1`` requests that depend on nothing but the token, admitted C at a time, so
    ``ceil((pages + 1) / C)`` rounds of L; the extra page also counts among the list requests.
    An unchanged re-sync therefore needs ``L * (1 + ceil((pages + 1) / C))``."""
    pages = math.ceil(workflows / page_length)
    exports = workflows if exports is None else exports
    if stored_listing:
        list_calls = pages + 1
        walk = math.ceil(list_calls / concurrency) * latency_s
    else:
        list_calls = pages
        walk = (pages + 1) * latency_s
    throughput = (list_calls + exports) * latency_s / concurrency
    return latency_s + max(walk, throughput)


def list_only_bound_s(workflows: int, *, page_length: int, latency_s: float, concurrency: int) -> float:
    """An unchanged re-sync: the token, then the stored listing's pages (and one more) at once."""
    return lower_bound_s(
        workflows,
        page_length=page_length,
        latency_s=latency_s,
        concurrency=concurrency,
        exports=0,
        stored_listing=True,
    )
