"""``customer_partitions_sensor``: keeps the ``customers`` partitions equal to the customers table.

It sends only deltas (the daemon applies each key with its own queries), requests an onboarding
run for each new active customer, and a sync for each customer whose credentials changed.
"""

import json
from datetime import datetime

import dagster as dg

from zuora_pipeline.defs.jobs import Jobs
from zuora_pipeline.defs.keys import TRIGGER_TAG
from zuora_pipeline.defs.options import PipelineOptions
from zuora_pipeline.defs.resources import WarehouseResource
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.customers import Customer


def _request(customer: Customer, reason: str, stamp: str) -> dg.RunRequest:
    return dg.RunRequest(
        partition_key=customer.name,
        run_key=f"{reason}:{customer.name}:{stamp}",
        tags={TRIGGER_TAG: reason},
    )


def _stamp(customer: Customer) -> str | None:
    stamp = customer.credentials_updated_at
    return stamp.isoformat() if isinstance(stamp, datetime) else None


def plan(
    all_customers: list[Customer], existing: set[str], cursor: str | None
) -> tuple[list[str], list[str], list[dg.RunRequest], str]:
    """(keys to add, keys to drop, run requests, new cursor). Pure, so it is unit-testable.

    The cursor remembers, per customer, the credentials stamp last handled. A paused customer's
    new stamp is not recorded, so rotating the secret of a customer paused for bad credentials
    and resuming it gets it synced on the next tick. Stamps are compared for equality, never
    ordered, so two updates committing out of order cannot hide one another.
    """
    handled: dict[str, str | None] = (json.loads(cursor) if cursor else {}).get("credentials", {})
    first_tick = cursor is None
    wanted = {c.name for c in all_customers}
    add = sorted(wanted - existing)
    drop = sorted(existing - wanted)
    runs: list[dg.RunRequest] = []
    seen: dict[str, str | None] = {}
    for customer in all_customers:
        stamp = _stamp(customer)
        if customer.sync_status != customers.ACTIVE:
            if customer.name in handled:
                seen[customer.name] = handled[customer.name]
            continue
        seen[customer.name] = stamp
        if customer.name in add:
            runs.append(_request(customer, "onboard", str(customer.id)))
        elif not first_tick and handled.get(customer.name, stamp) != stamp:
            runs.append(_request(customer, "credentials", stamp or "none"))
    return add, drop, runs, json.dumps({"credentials": seen}, separators=(",", ":"))


PARTITIONS_SENSOR_NAME = "customer_partitions_sensor"


def build_partitions_sensor(
    options: PipelineOptions, jobs: Jobs, partitions: dg.DynamicPartitionsDefinition
) -> dg.SensorDefinition:
    @dg.sensor(
        name=PARTITIONS_SENSOR_NAME,
        job=jobs.sync,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING if options.schedule_running else dg.DefaultSensorStatus.STOPPED,
        required_resource_keys={options.warehouse_key},
    )
    def customer_partitions_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        warehouse: WarehouseResource = getattr(context.resources, options.warehouse_key)
        with warehouse.engine().connect() as conn:
            all_customers = customers.list_all(conn)
        existing = set(context.instance.get_dynamic_partitions(options.partitions_name))
        add, drop, runs, cursor = plan(all_customers, existing, context.cursor)
        requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
        if add:
            requests.append(partitions.build_add_request(add))
        if drop:
            requests.append(partitions.build_delete_request(drop))
        if add or drop:
            context.log.info(f"partitions: +{add} -{drop}")
        return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=requests, cursor=cursor)

    return customer_partitions_sensor
