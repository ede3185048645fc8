"""The customers table: one row per Zuora tenant; its ``name`` is the Dagster partition key."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from zuora_pipeline.warehouse.schema import customers, workflows

# Partition keys travel through URLs, CLI ranges ("a...b") and the UI's comma-separated backfill
# selection, so names are slugs: no commas, brackets, pipes, spaces or "...".
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

ACTIVE = "active"
PAUSED = "paused"


class CustomerError(ValueError):
    """A customer command cannot be carried out (unknown name, duplicate, invalid name)."""


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    display_name: str | None
    base_url: str
    client_id: str
    client_secret_encrypted: str
    sync_status: str
    credentials_updated_at: datetime | None
    last_synced_at: datetime | None
    last_sync_status: str | None
    last_sync_error: str | None
    paused_reason: str | None
    max_concurrency: int | None

    def __repr__(self) -> str:  # the ciphertext stays out of logs and tracebacks too
        return f"Customer(id={self.id}, name={self.name!r}, base_url={self.base_url!r})"


def validate_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name) or "..." in name:
        raise CustomerError(
            f"invalid customer name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit (it becomes the Dagster partition key)"
        )
    return name


_MAX_LENGTHS = {"display_name": 255, "base_url": 255, "client_id": 255}
MAX_CONCURRENCY_RANGE = (1, 200)  # the table's check constraint on customers.max_concurrency


def _check_lengths(values: dict[str, object]) -> None:
    for field, limit in _MAX_LENGTHS.items():
        value = values.get(field)
        if isinstance(value, str) and len(value) > limit:
            raise CustomerError(f"{field.replace('_', ' ')} is longer than {limit} characters")
    concurrency = values.get("max_concurrency")
    low, high = MAX_CONCURRENCY_RANGE
    if concurrency is not None and not (isinstance(concurrency, int) and low <= concurrency <= high):
        raise CustomerError(f"max concurrency must be {low}..{high}, got {concurrency!r}")


def _row_to_customer(row: sa.Row) -> Customer:
    m = row._mapping
    return Customer(**{field: m[field] for field in Customer.__dataclass_fields__})


def now_utc() -> datetime:
    return datetime.now(UTC)


def add(
    conn: sa.Connection,
    *,
    name: str,
    base_url: str,
    client_id: str,
    client_secret_encrypted: str,
    display_name: str | None = None,
    max_concurrency: int | None = None,
) -> Customer:
    validate_name(name)
    _check_lengths(
        {"display_name": display_name, "base_url": base_url, "client_id": client_id, "max_concurrency": max_concurrency}
    )
    if find(conn, name) is not None:
        raise CustomerError(f"customer {name!r} already exists: use `customers update {name}`")
    now = now_utc()
    conn.execute(
        sa.insert(customers).values(
            name=name,
            display_name=display_name,
            base_url=base_url,
            client_id=client_id,
            client_secret_encrypted=client_secret_encrypted,
            sync_status=ACTIVE,
            max_concurrency=max_concurrency,
            credentials_updated_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    return get(conn, name)


def find(conn: sa.Connection, name: str) -> Customer | None:
    row = conn.execute(sa.select(customers).where(customers.c.name == name)).first()
    return _row_to_customer(row) if row is not None else None


def get(conn: sa.Connection, name: str) -> Customer:
    customer = find(conn, name)
    if customer is None:
        raise CustomerError(f"no customer named {name!r} (see `zuora-pipeline customers list`)")
    return customer


def list_all(conn: sa.Connection, *, status: str | None = None) -> list[Customer]:
    query = sa.select(customers).order_by(customers.c.name)
    if status is not None:
        query = query.where(customers.c.sync_status == status)
    return [_row_to_customer(row) for row in conn.execute(query)]


def with_workflow(conn: sa.Connection, zuora_id: int) -> list[Customer]:
    """The customers that hold a stored export of this Zuora workflow id (ids are per tenant, so
    several may), by name."""
    holds = sa.exists().where(
        workflows.c.customer_id == customers.c.id,
        workflows.c.zuora_id == zuora_id,
        workflows.c.export_hash.is_not(None),
    )
    return [_row_to_customer(row) for row in conn.execute(sa.select(customers).where(holds).order_by(customers.c.name))]


def names(conn: sa.Connection, *, status: str | None = None) -> list[str]:
    query = sa.select(customers.c.name).order_by(customers.c.id)
    if status is not None:
        query = query.where(customers.c.sync_status == status)
    return list(conn.execute(query).scalars())


_CREDENTIALS = ("base_url", "client_id", "client_secret_encrypted")


def update(conn: sa.Connection, name: str, **values: object) -> Customer:
    get(conn, name)
    _check_lengths(values)
    now = now_utc()
    if any(key in values for key in _CREDENTIALS):
        values["credentials_updated_at"] = now
    conn.execute(sa.update(customers).where(customers.c.name == name).values(**values, updated_at=now))
    return get(conn, name)


def remove(conn: sa.Connection, name: str) -> None:
    customer = get(conn, name)
    # Rows below the customer go by ON DELETE CASCADE.
    conn.execute(sa.delete(customers).where(customers.c.id == customer.id))


def reencrypt_secrets(conn: sa.Connection, rotate: Callable[[str, str], str]) -> int:
    """Replace every customer's stored client secret with ``rotate(ciphertext, name)`` (the same
    secret encrypted with the newest key), in the caller's transaction: all of them or, if one
    cannot be decrypted, none. Returns how many were re-encrypted. The rows are locked first, so a
    concurrent ``customers update`` of a secret is neither lost nor overwritten with the old one."""
    rows = conn.execute(
        sa.select(customers.c.id, customers.c.name, customers.c.client_secret_encrypted)
        .order_by(customers.c.id)
        .with_for_update()
    ).all()
    for row in rows:
        conn.execute(
            sa.update(customers)
            .where(customers.c.id == row.id)
            .values(client_secret_encrypted=rotate(row.client_secret_encrypted, row.name))
        )
    return len(rows)
