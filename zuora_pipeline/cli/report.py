"""How ``sync`` reports: one row per customer as soon as it finishes, or one JSON object per line.

Rows go to stdout, with a rich progress line on the terminal while a customer runs or queued
runs are awaited; when stdout is not a terminal the rows are plain fixed-width text, no colour,
no progress. Each failure is also one ``Error: CUSTOMER: ...`` line on stderr.

``--json`` writes one JSON object per customer per line (JSON Lines) with always the same keys,
in this order (``JSON_KEYS``): ``customer``; ``status``, one of ``success``, ``failed``,
``skipped``, ``queued``, ``timeout``; ``run_id`` (null when skipped, or when no run was made);
``seconds`` (null unless finished, and for a run that never started); the sync's counts
``created``, ``updated``, ``unchanged``, ``deleted``, ``total``, ``errors``, ``api_calls``,
``retries`` (null unless finished); ``error`` (why it failed, was skipped or timed out; else
null).
"""

from __future__ import annotations

import json
import sys
from types import TracebackType
from typing import TYPE_CHECKING, Any

import click

from zuora_pipeline.cli import console
from zuora_pipeline.logic.stats import STAT_KEYS

if TYPE_CHECKING:
    from zuora_pipeline.logic.stats import Stats
    from zuora_pipeline.runs.outcome import SyncOutcome

JSON_KEYS = ("customer", "status", "run_id", "seconds", *STAT_KEYS, "error")
SUCCESS, FAILED, SKIPPED, QUEUED, TIMEOUT = "success", "failed", "skipped", "queued", "timeout"
_SHOWN = {SUCCESS: "ok", FAILED: "FAILED", QUEUED: "queued", TIMEOUT: "TIMEOUT"}
_STYLE = {SUCCESS: "green", FAILED: "bold red", QUEUED: "cyan", TIMEOUT: "bold yellow"}


def _header() -> str:
    return f"{'CUSTOMER':<20} {'RESULT':<7} " + " ".join(f"{k.upper():>9}" for k in STAT_KEYS) + f" {'SECONDS':>8}"


def _cells(status: str, stats: Stats | None, seconds: float | None) -> tuple[str, str]:
    values = stats.as_dict() if stats is not None else {}
    counts = " ".join(f"{values.get(k, '-'):>9}" for k in STAT_KEYS)
    secs = f"{seconds:>8.2f}" if seconds is not None else f"{'-':>8}"
    return f"{_SHOWN[status]:<7}", f"{counts} {secs}"


class SyncReport:
    """Use as a context manager; call ``running``/``finished``/``queued``/``skipped``/``timed_out``."""

    def __init__(self, *, as_json: bool, total: int, live: bool | None = None) -> None:
        self.as_json = as_json
        self.total = total
        self.counts: dict[str, int] = {}
        self.failed: list[str] = []
        self._live = (sys.stdout.isatty() if live is None else live) and not as_json
        self._header_shown = False
        self._progress: Any = None
        self._task: Any = None

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> SyncReport:
        if self._live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._console = Console(file=sys.stdout, highlight=False)
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=self.total)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    # -- events ----------------------------------------------------------------------------

    def running(self, description: str) -> None:
        """What is going on now (the progress line; nothing when not on a terminal)."""
        if self._progress is not None:
            self._progress.update(self._task, description=description)

    def skipped(self, customer: str, reason: str) -> None:
        self._count(SKIPPED, advance=False)
        if self.as_json:
            self._json(customer, SKIPPED, error=reason)
        else:
            self._line(f"skip {customer}: {reason}")

    def queued(self, customer: str, run_id: str | None, *, awaited: bool = False) -> None:
        """``awaited``: its outcome follows (``--wait``), so it is not counted as queued.
        ``run_id`` None: the daemon took the request, its run was not seen yet."""
        if not awaited:
            self._count(QUEUED, advance=False)
        if self.as_json:
            self._json(customer, QUEUED, run_id=run_id)
        elif run_id is None:
            self._line(f"queued a run for {customer} (the daemon is making it)")
        else:
            self._line(f"queued run {run_id} for {customer}")

    def finished(self, outcome: SyncOutcome) -> None:
        status = SUCCESS if outcome.success else FAILED
        self._count(status)
        if self.as_json:
            self._json(
                outcome.customer,
                status,
                run_id=outcome.run_id,
                seconds=round(outcome.seconds, 3) if outcome.seconds is not None else None,
                stats=outcome.stats,
                error=outcome.error,
            )
        else:
            self._row(outcome.customer, status, outcome.stats, outcome.seconds)
        if not outcome.success:
            self.failed.append(outcome.customer)
            console.error(f"{outcome.customer}: {outcome.error}", customer=outcome.customer, run_id=outcome.run_id)

    def timed_out(self, customer: str, run_id: str | None, reason: str) -> None:
        """Waiting stopped before the customer's sync ended (or before its run was made)."""
        self._count(TIMEOUT)
        if self.as_json:
            self._json(customer, TIMEOUT, run_id=run_id, error=reason)
        else:
            self._row(customer, TIMEOUT, None, None)
        self.failed.append(customer)
        console.error(f"{customer}: {reason}", customer=customer, run_id=run_id)

    def summary(self) -> str:
        """``7 customers: 1 skipped, 6 ok``: the customers counted, then how many of each outcome
        (``total`` is what the progress line waits for, the skipped ones are not among them)."""
        counted = sum(self.counts.values())
        parts = [f"{n} {_SHOWN.get(s, s)}" for s, n in self.counts.items()]
        return f"{counted} customer{'s' if counted != 1 else ''}: {', '.join(parts) or 'nothing done'}"

    # -- output ----------------------------------------------------------------------------

    def _count(self, status: str, *, advance: bool = True) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        if advance and self._progress is not None:
            self._progress.advance(self._task)

    def _json(
        self,
        customer: str,
        status: str,
        *,
        run_id: str | None = None,
        seconds: float | None = None,
        stats: Stats | None = None,
        error: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"customer": customer, "status": status, "run_id": run_id, "seconds": seconds}
        values |= stats.as_dict() if stats is not None else dict.fromkeys(STAT_KEYS)
        values["error"] = error
        click.echo(json.dumps({k: values[k] for k in JSON_KEYS}))

    def _line(self, text: str) -> None:
        if self._live:
            self._console.print(text, markup=False, soft_wrap=True)
        else:
            click.echo(text)

    def _row(self, customer: str, status: str, stats: Stats | None, seconds: float | None) -> None:
        shown, rest = _cells(status, stats, seconds)
        if not self._header_shown:
            self._header_shown = True
            self._line(_header())
        if self._live:
            from rich.text import Text

            row = Text.assemble(f"{customer:<20} ", (shown, _STYLE[status]), f" {rest}")
            self._console.print(row, soft_wrap=True)  # a narrow terminal wraps it, rich does not cut it
        else:
            click.echo(f"{customer:<20} {shown} {rest}")


def print_stats_table(outcomes: list[SyncOutcome]) -> None:
    """All rows at once (the demo's summary), plain text."""
    report = SyncReport(as_json=False, total=len(outcomes), live=False)
    for outcome in outcomes:
        report.finished(outcome)
