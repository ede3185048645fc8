"""Turning a failed step into the customer's state and a Dagster failure.

A deterministic error (bad credentials, a missing or wrong secret key, a refused origin, a
pagination loop, a 4xx other than 429, a listing that stayed malformed through the client's
retries) would fail the same way minutes later: it becomes ``Failure(allow_retries=False)`` with
its one-line message at once. A transient one (5xx, timeouts, dropped connections, 429s outlasting
the client's budget, a listing that changed mid-walk, the warehouse's connection) is re-raised for
the asset's RetryPolicy. Zuora errors are classified by ``zuora.ERROR_HANDLING``; the others here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import sqlalchemy as sa

from zuora_pipeline.crypto import SecretKeyError
from zuora_pipeline.sync.apply import NoListingError
from zuora_pipeline.warehouse import customers, sync_runs
from zuora_pipeline.warehouse.customers import Customer
from zuora_pipeline.warehouse.transactions import write_transaction
from zuora_pipeline.zuora import ZuoraAuthenticationError, ZuoraError, handling

# Errors from outside the Zuora client that would fail the same way on a retry. Anything else
# (warehouse connection errors among them) keeps the RetryPolicy.
_DETERMINISTIC: tuple[type[Exception], ...] = (SecretKeyError, NoListingError)


def is_deterministic(exc: BaseException) -> bool:
    """True if retrying the step cannot help: fail it at once."""
    if isinstance(exc, ZuoraError):
        return not handling(exc).retry_later
    return isinstance(exc, _DETERMINISTIC)


def _record(
    engine: sa.Engine, customer: Customer, run_id: str, message: str, *, pause: bool = False, retryable: bool = False
) -> None:
    with write_transaction(engine) as conn:
        if pause:
            sync_runs.paused(conn, customer.id, run_id, message)
        else:
            sync_runs.failed(conn, customer.id, run_id, message, retryable=retryable)


@contextmanager
def customer_step(engine: sa.Engine, customer: Customer, run_id: str) -> Iterator[None]:
    try:
        yield
    except ZuoraAuthenticationError as exc:
        # An invalid credential pauses this one customer; the schedule skips it until
        # `zuora-pipeline customers resume NAME`.
        _record(engine, customer, run_id, str(exc), pause=True)
        raise dg.Failure(
            description=f"{exc} The customer is now paused.",
            metadata={"customer": customer.name, "paused": True},
            allow_retries=False,
        ) from None
    except Exception as exc:
        if not is_deterministic(exc):
            _record(engine, customer, run_id, f"{type(exc).__name__}: {exc}", retryable=True)
            raise
        _record(engine, customer, run_id, str(exc))
        raise dg.Failure(
            description=f"{exc} (not retried: it would fail the same way)",
            metadata={"customer": customer.name},
            allow_retries=False,
        ) from None


def load_customer(engine: sa.Engine, name: str) -> Customer:
    with engine.connect() as conn:
        customer = customers.find(conn, name)
    if customer is None:
        raise dg.Failure(
            description=(
                f"partition {name!r} has no customer in the warehouse (removed?). Add it with "
                "`zuora-pipeline customers add`, or let customer_partitions_sensor drop the partition."
            ),
            allow_retries=False,
        )
    return customer
