"""The threads of one fetch, owned by one object: the page walker and the staging writer.

The page walker walks the listing on its own thread so exports start while pages are still
listed. The staging writer writes downloaded exports to the warehouse on its own thread, so the
consumer of the client's exports never waits for a write: the client admits a new request each
time the consumer takes a finished export, and a consumer busy writing would let the requests in
flight drain during every write. Its queue holds at most one batch waiting while another is
written, so a warehouse slower than the download stalls the download there instead of letting
downloaded exports pile up in memory.

Errors on either thread travel to the fetch's own thread and are raised there.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from types import TracebackType

from zuora_pipeline.warehouse.raw import RawExport
from zuora_pipeline.zuora import WorkflowPage, ZuoraClient

_DONE = object()
_POLL_S = 0.05  # how often a blocked hand-over looks for the other thread's error


class _PageWalker:
    """Walks every page on its own thread into a queue (errors travel through it too)."""

    def __init__(self, client: ZuoraClient, expected_workflows: int | None) -> None:
        self._client = client
        self._expected = expected_workflows
        self._queue: queue.Queue[object] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._walk, name=f"zuora-page-walker-{client.customer}", daemon=True)

    def _walk(self) -> None:
        try:
            for page in self._client.iter_workflow_pages(expected_workflows=self._expected):
                self._queue.put(page)
                if self._stop.is_set():
                    return
            self._queue.put(_DONE)
        except BaseException as exc:
            self._queue.put(exc)

    def __iter__(self) -> Iterator[WorkflowPage]:
        self._thread.start()
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    def stop(self) -> None:
        self._stop.set()


class _StagingWriter:
    """Writes exports in batches of ``batch_size`` on its own thread."""

    def __init__(self, write: Callable[[list[RawExport]], None], batch_size: int, name: str) -> None:
        self._write = write
        self._batch_size = batch_size
        self._queue: queue.Queue[object] = queue.Queue(maxsize=batch_size)
        self._error: BaseException | None = None
        self._abort = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"zuora-staging-writer-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        batch: list[RawExport] = []
        try:
            while True:
                item = self._queue.get()
                if self._abort.is_set():
                    return
                if item is _DONE:
                    break
                batch.append(item)  # type: ignore[arg-type]
                if len(batch) >= self._batch_size:
                    self._write(batch)
                    batch = []
            if batch:
                self._write(batch)
        except BaseException as exc:
            self._error = exc

    def _hand_over(self, item: object) -> None:
        while True:
            if self._error is not None:
                raise self._error
            if not self._thread.is_alive():
                return
            try:
                self._queue.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def put(self, export: RawExport) -> None:
        """Queue one export; blocks while a full batch already waits; raises a failed write."""
        self._hand_over(export)

    def finish(self) -> None:
        """Write what is queued, wait for it, and raise the error of a write that failed."""
        self._hand_over(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop without writing what is still queued (the fetch failed; staging is discarded)."""
        self._abort.set()
        try:
            self._queue.put_nowait(_DONE)  # wakes a writer waiting for work
        except queue.Full:
            pass  # the writer is busy and sees the abort before its next batch
        self._thread.join()


class FetchThreads:
    """The walker and the writer of one fetch; leaving the block stops both."""

    def __init__(
        self,
        client: ZuoraClient,
        *,
        expected_workflows: int | None,
        write: Callable[[list[RawExport]], None],
        batch_size: int,
    ) -> None:
        self.pages = _PageWalker(client, expected_workflows)
        self._writer = _StagingWriter(write, batch_size, client.customer)
        self._finished = False

    def stage(self, export: RawExport) -> None:
        self._writer.put(export)

    def finish_staging(self) -> None:
        self._finished = True
        self._writer.finish()

    def __enter__(self) -> FetchThreads:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.pages.stop()
        if not self._finished:
            self._writer.abort()
