"""Tenant comparisons run in the background: comparing two customers of 2,000 workflows each reads
4,000 exports and takes seconds, longer than a page should, so the compare page starts the work,
shows its progress and shows the result once it is there.

A result is kept for the customers' state it was computed on: the key holds each customer's last
logged change (every sync that changes a workflow logs it) and live workflow count, so the next
sync that changes either customer makes the next visit compute it again.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from zuora_pipeline.audit.compare import Listed, TenantComparison, compare_tenants
from zuora_pipeline.warehouse import workflows as workflow_table
from zuora_pipeline.warehouse.overview import CustomerSummary

log = logging.getLogger(__name__)
KEEP = 16  # finished comparisons kept
WORKERS = 1  # comparisons at once: each is CPU-bound, and the pages must stay fast meanwhile

Key = tuple[int, int, str | None, datetime | None, datetime | None, int, int]


@dataclass
class Job:
    """One comparison: ``done`` of ``total`` workflows (of names both sides have) loaded so far."""

    a: str
    b: str
    workflow: str | None
    total: int = 0
    done: int = 0
    future: Future[TenantComparison] = field(default_factory=Future)

    @property
    def finished(self) -> bool:
        return self.future.done()

    @property
    def failed(self) -> bool:
        return self.finished and self.future.exception() is not None

    def result(self) -> TenantComparison:
        return self.future.result()


class CompareJobs:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="compare")
        self._jobs: OrderedDict[Key, Job] = OrderedDict()
        self._lock = threading.Lock()

    def job(self, a: CustomerSummary, b: CustomerSummary, workflow: str | None) -> Job:
        """The comparison of ``a`` and ``b`` as they are now: found, running or just started."""
        key: Key = (a.id, b.id, workflow, a.changed_at, b.changed_at, a.workflows, b.workflows)
        with self._lock:
            found = self._jobs.get(key)
            if found is not None:
                self._jobs.move_to_end(key)
                return found
            job = Job(a.name, b.name, workflow)
            self._jobs[key] = job
            while len(self._jobs) > KEEP:
                self._jobs.popitem(last=False)
        job.future = self._pool.submit(self._run, job, a.id, b.id)
        return job

    def _run(self, job: Job, a_id: int, b_id: int) -> TenantComparison:
        try:
            with self._engine.connect() as conn:
                ids = {"a": a_id, "b": b_id}
                listed = {
                    side: [
                        Listed(int(r.zuora_id), r.name, r.state, r.created_on)
                        for r in workflow_table.live_listing(conn, customer_id, job.workflow)
                    ]
                    for side, customer_id in ids.items()
                }
                shared = {w.name for w in listed["a"]} & {w.name for w in listed["b"]}
                job.total = sum(1 for side in listed.values() for w in side if w.name in shared)

                def load(side: str, zuora_ids: Sequence[int]) -> dict[int, Any]:
                    states = workflow_table.current_states(conn, ids[side], list(zuora_ids))
                    job.done += len(zuora_ids)
                    return {zid: export for zid, (export, _) in states.items()}

                return compare_tenants(listed["a"], listed["b"], load)
        except Exception:
            log.exception("comparing %s with %s failed", job.a, job.b)
            raise

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
