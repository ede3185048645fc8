"""``stale_customer_alerts``: tell a human when an active customer stops syncing, once per stale
episode, and again when it recovers.

A customer whose schedule is off, or whose every run is skipped, produces no failed run and so no
failure alert; the fleet's ``customers_fresh`` check only turns yellow. This sensor compares each
active customer's last successful sync with the staleness window and remembers (in its cursor)
who it already reported, so each episode alerts once on the ``alerts`` channels. Paused customers
are not stale: nothing syncs them until an operator resumes them (their pause had its own alert).
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from zuora_pipeline.audit.freshness import ACTIVE, CustomerSync, age_text, freshness
from zuora_pipeline.defs.notifications import AlertChannels, AlertDeliveryError, deliver
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.warehouse import quality

SENSOR_NAME = "stale_customer_alerts"
INTERVAL_S = 300


@dataclass(frozen=True)
class FreshnessAlert:
    customer: str
    stale: bool  # False: it recovered
    last_synced_at: datetime | None
    window: timedelta
    now: datetime

    @property
    def subject(self) -> str:
        state = "is stale" if self.stale else "is syncing again"
        return f"[zuora-pipeline] customer {self.customer} {state}"

    @property
    def summary(self) -> str:
        last = self.last_synced_at.isoformat(timespec="seconds") if self.last_synced_at else "never"
        if self.stale:
            return f"no successful sync for {age_text(self.last_synced_at, self.now)} (last: {last})"
        return f"synced successfully at {last}"

    @property
    def label(self) -> str:
        return f"freshness of {self.customer}"

    def text(self) -> str:
        if self.stale:
            advice = (
                f"The window is {self.window}. Check that the hourly schedule is running and why its runs "
                f"skip or fail, or sync now with `zuora-pipeline sync --customer {self.customer} --force`."
            )
        else:
            advice = "It is fresh again; no action needed."
        return f"Customer {self.customer}: {self.summary}.\n\n{advice}\n"

    def payload(self) -> dict[str, Any]:
        return {
            "event": "customer_stale" if self.stale else "customer_recovered",
            "customer": self.customer,
            "last_synced_at": self.last_synced_at.isoformat() if self.last_synced_at else None,
            "window_s": int(self.window.total_seconds()),
            "text": f"{self.subject}: {self.summary}",
        }


def changes(
    syncs: list[CustomerSync], reported: set[str], now: datetime, window: timedelta
) -> tuple[list[FreshnessAlert], set[str]]:
    """The alerts to send and the customers now reported stale. Pure, so it is unit-testable."""
    report = freshness(syncs, now, window)
    # A customer added moments ago and not synced yet is waiting for its onboarding run.
    stale = {
        c.name: c
        for c in report.stale
        if c.last_synced_at is not None or c.created_at is None or now - c.created_at > window
    }
    by_name = {c.name: c for c in syncs}
    alerts = [
        FreshnessAlert(name, True, c.last_synced_at, window, now) for name, c in stale.items() if name not in reported
    ]
    for name in sorted(reported - set(stale)):
        customer = by_name.get(name)
        # Recovered only if it is active and synced again; removed or paused customers just leave.
        if customer is not None and customer.sync_status == ACTIVE:
            alerts.append(FreshnessAlert(name, False, customer.last_synced_at, window, now))
    return alerts, set(stale)


def build_stale_alerts(options: PipelineOptions) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        required_resource_keys={options.warehouse_key, options.alerts_key},
        description=f"Alerts once when an active customer has not synced successfully for "
        f"{options.stale_after} (and once when it recovers), on the `{options.alerts_key}` channels.",
    )
    def stale_customer_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        warehouse: WarehouseResource = getattr(context.resources, options.warehouse_key)
        channels: AlertChannels = getattr(context.resources, options.alerts_key)
        with warehouse.engine().connect() as conn:
            syncs = [CustomerSync(*row) for row in quality.customer_syncs(conn)]
        reported = set(json.loads(context.cursor)["stale"]) if context.cursor else set()
        alerts, stale = changes(syncs, reported, datetime.now(UTC), options.stale_after)
        problems = []
        for alert in alerts:
            try:
                deliver(alert, channels, context.log)
            except AlertDeliveryError as exc:
                problems.append(str(exc))
                # Not delivered: keep the customer's previous state so the next tick tries again.
                stale.symmetric_difference_update({alert.customer})
        context.update_cursor(json.dumps({"stale": sorted(stale)}))
        for problem in problems:
            context.log.error(f"{problem} (tried again at the next tick)")
        return dg.SkipReason(f"{len(stale)} stale customer(s); {len(alerts)} alert(s) sent")

    return stale_customer_alerts
