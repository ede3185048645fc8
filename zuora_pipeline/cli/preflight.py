"""What must hold before the CLI starts any run, checked all at once so every problem is one line.

A run that starts without them fails in its first step with a Dagster stack trace (and an event
log entry, a failed partition and an alert): the warehouse schema is current, each named customer
exists, and the secret key is set, valid and decrypts every chosen customer's client secret.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from zuora_pipeline import config
from zuora_pipeline.cli.errors import Problems
from zuora_pipeline.crypto import SecretKeyError
from zuora_pipeline.warehouse import customers
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.migrate import SchemaMissingError, require_schema


def select_customers(engine: sa.Engine, names: Sequence[str], *, all_: bool) -> list[Customer]:
    """The customers named (or all of them), after the schema check; every unknown name is a line."""
    try:
        require_schema(engine)
    except SchemaMissingError as exc:
        raise Problems([str(exc)]) from None
    with engine.connect() as conn:
        if all_:
            return customers.list_all(conn)
        found = {name: customers.find(conn, name) for name in dict.fromkeys(names)}
    unknown = [name for name, customer in found.items() if customer is None]
    if unknown:
        raise Problems([f"no customer named {name!r} (see `zuora-pipeline customers list`)" for name in unknown])
    return [customer for customer in found.values() if customer is not None]


def require_secrets(chosen: Sequence[Customer]) -> None:
    """The secret key can decrypt each chosen customer's client secret (the plain secret is dropped)."""
    if not chosen:
        return
    try:
        box = config.secret_box()
    except SecretKeyError as exc:
        raise Problems([str(exc)]) from None
    problems = []
    for customer in chosen:
        try:
            box.decrypt(customer.client_secret_encrypted, customer=customer.name)
        except SecretKeyError as exc:
            problems.append(str(exc))
    if problems:
        raise Problems(problems)
