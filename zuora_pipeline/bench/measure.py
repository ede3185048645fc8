"""Wall time, peak RSS (psutil, sampled on a thread) and medians."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psutil

SAMPLE_INTERVAL_S = 0.02


@dataclass
class Measurement:
    wall_s: float = 0.0
    peak_rss_bytes: int = 0

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_bytes / (1024 * 1024)


def _rss(pid: int, include_children: bool) -> int:
    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        if include_children:
            for child in process.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
        return total
    except psutil.Error:
        return 0


class RssSampler:
    """Samples the RSS of ``pid`` (and optionally its descendants) until stopped.

    Sampling every 20 ms can miss a spike shorter than that; a sync's memory grows with what it
    holds (batches, pages), which lives far longer than one interval.
    """

    def __init__(self, pid: int, *, include_children: bool = False, exclude: Sequence[int] = ()) -> None:
        self.pid = pid
        self.include_children = include_children
        self.exclude = set(exclude)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    def _sample(self) -> int:
        total = _rss(self.pid, self.include_children)
        for pid in self.exclude:  # e.g. the simulator: it is Zuora, not the code under test
            total -= _rss(pid, True) if self.include_children else 0
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(SAMPLE_INTERVAL_S)

    def __enter__(self) -> RssSampler:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


@contextmanager
def measured(
    pid: int | None = None, *, include_children: bool = False, exclude: Sequence[int] = ()
) -> Iterator[Measurement]:
    """Times the block and records the peak RSS of ``pid`` (this process by default)."""
    result = Measurement()
    sampler = RssSampler(pid or psutil.Process().pid, include_children=include_children, exclude=exclude)
    started = time.perf_counter()
    with sampler:
        try:
            yield result
        finally:
            result.wall_s = time.perf_counter() - started
    result.peak_rss_bytes = sampler.peak


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0
