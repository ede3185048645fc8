"""Which customers are stale: pure, so the fleet check and its tests share it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

ACTIVE = "active"
# An active customer not synced successfully for longer than this is stale.
MAX_AGE = timedelta(hours=2)


@dataclass(frozen=True)
class CustomerSync:
    name: str
    sync_status: str  # active | paused
    last_synced_at: datetime | None  # the last *successful* sync
    paused_reason: str | None = None


@dataclass
class FreshnessReport:
    max_age: timedelta
    active: int = 0
    stale: list[CustomerSync] = field(default_factory=list)
    paused: list[CustomerSync] = field(default_factory=list)


def freshness(customers: Iterable[CustomerSync], now: datetime, max_age: timedelta) -> FreshnessReport:
    """Active customers never synced, or last synced successfully more than ``max_age`` ago, are
    stale. Paused customers are listed on their own: nothing syncs them until an operator
    resumes them, so they would be stale forever and hide the customers that really fell behind."""
    report = FreshnessReport(max_age=max_age)
    for customer in customers:
        if customer.sync_status != ACTIVE:
            report.paused.append(customer)
            continue
        report.active += 1
        if customer.last_synced_at is None or now - customer.last_synced_at > max_age:
            report.stale.append(customer)
    report.stale.sort(key=lambda c: (c.last_synced_at is not None, c.last_synced_at or now, c.name))
    return report


def age_text(last: datetime | None, now: datetime) -> str:
    if last is None:
        return "never synced"
    minutes = int((now - last).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def stale_table(report: FreshnessReport, now: datetime) -> str:
    lines = ["| customer | last successful sync | age |", "|---|---|---|"]
    for c in report.stale:
        last = c.last_synced_at.isoformat(timespec="seconds") if c.last_synced_at else "never"
        lines.append(f"| {c.name} | {last} | {age_text(c.last_synced_at, now)} |")
    return "\n".join(lines)


def paused_table(report: FreshnessReport) -> str:
    lines = ["| customer | paused because | last successful sync |", "|---|---|---|"]
    for c in report.paused:
        last = c.last_synced_at.isoformat(timespec="seconds") if c.last_synced_at else "never"
        reason = (c.paused_reason or "-").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {c.name} | {reason} | {last} |")
    return "\n".join(lines)
